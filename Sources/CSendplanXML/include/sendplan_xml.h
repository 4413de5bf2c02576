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

/// Streams the file at `path` through libxml2's reader, checking well-formedness and, when
/// `schema` is not NULL, validity against it. Entities are never substituted and nothing is fetched.
/// Returns 0 when valid; otherwise 1 and the first error's message and line in `err` and `line`.
int sendplan_xml_check_file(const char *path, const sendplan_xml_schema *schema, char *err, size_t errlen, int *line);

#endif
