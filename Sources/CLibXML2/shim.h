#ifndef SENDPLAN_CLIBXML2_SHIM_H
#define SENDPLAN_CLIBXML2_SHIM_H
// Only CSendplanXML includes libxml2; Swift code never imports this module (libxml2's headers pull in ICU).
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#endif
