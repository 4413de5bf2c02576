#ifndef SENDPLAN_XML_H
#define SENDPLAN_XML_H

#include <stddef.h>

// libxml2 stays behind this header: it exposes only plain C types, so Swift modules that import
// Foundation never see libxml2's (ICU-dependent) headers.

/// A compiled XML Schema, or NULL.
typedef struct sendplan_xml_schema sendplan_xml_schema;

/// Compiles the schema in `xsd` (`len` bytes). Network access and DTD loading are off.
/// On failure returns NULL and writes a message to `err`.
sendplan_xml_schema *sendplan_xml_schema_load(const char *xsd, size_t len, char *err, size_t errlen);

void sendplan_xml_schema_free(sendplan_xml_schema *schema);

/// A document being checked as it is written: bytes go in with `sendplan_xml_push_feed`, in
/// pieces of any size, through libxml2's SAX push parser with the schema's validator plugged into
/// the SAX stream (no tree is built). Network access, DTD loading and entity substitution are off.
typedef struct sendplan_xml_push sendplan_xml_push;

/// Starts a check: against `schema`, or for well-formedness only when `schema` is NULL.
/// Returns NULL when libxml2 cannot allocate a parser.
sendplan_xml_push *sendplan_xml_push_new(const sendplan_xml_schema *schema);

/// Feeds `len` bytes; `last` is 1 for the final piece (which may be empty). Returns 0 while the
/// document is still fine, 1 once it is not (later feeds are then ignored).
int sendplan_xml_push_feed(sendplan_xml_push *p, const char *bytes, size_t len, int last);

/// After the last feed: 0 when the document is valid (or well-formed), else 1 with the first
/// error's message and line in `err` and `line`.
int sendplan_xml_push_result(sendplan_xml_push *p, char *err, size_t errlen, int *line);

void sendplan_xml_push_free(sendplan_xml_push *p);

#endif
