#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#include "sendplan_xml.h"

struct sendplan_xml_schema {
  xmlSchemaPtr schema;
};

// The first error wins; later ones are usually consequences of it.
typedef struct {
  char *buf;
  size_t len;
  int line;
  int seen;
} first_error;

static void keep_first(void *ctx, const xmlError *e) {
  first_error *fe = ctx;
  if (fe->seen || e == NULL) return;
  fe->seen = 1;
  fe->line = e->line;
  snprintf(fe->buf, fe->len, "%s", e->message ? e->message : "unknown libxml2 error");
  size_t n = strlen(fe->buf);
  while (n > 0 && (fe->buf[n - 1] == '\n' || fe->buf[n - 1] == ' ')) fe->buf[--n] = 0;
}

static void keep_first_v(void *ctx, xmlErrorPtr e) { keep_first(ctx, e); }

static void init_once(void) {
  static int done = 0;
  if (!done) {
    xmlInitParser();
    done = 1;
  }
}

sendplan_xml_schema *sendplan_xml_schema_load(const char *xsd, size_t len, char *err, size_t errlen) {
  init_once();
  first_error fe = {err, errlen, 0, 0};
  if (errlen) err[0] = 0;
  xmlSchemaParserCtxtPtr pctx = xmlSchemaNewMemParserCtxt(xsd, (int)len);
  if (pctx == NULL) {
    snprintf(err, errlen, "cannot create a schema parser");
    return NULL;
  }
  xmlSchemaSetParserStructuredErrors(pctx, keep_first_v, &fe);
  xmlSchemaPtr schema = xmlSchemaParse(pctx);
  xmlSchemaFreeParserCtxt(pctx);
  if (schema == NULL) {
    if (!fe.seen) snprintf(err, errlen, "the schema does not compile");
    return NULL;
  }
  sendplan_xml_schema *s = malloc(sizeof *s);
  if (s == NULL) {
    xmlSchemaFree(schema);
    return NULL;
  }
  s->schema = schema;
  return s;
}

void sendplan_xml_schema_free(sendplan_xml_schema *s) {
  if (s == NULL) return;
  xmlSchemaFree(s->schema);
  free(s);
}

int sendplan_xml_check_file(const char *path, const sendplan_xml_schema *schema, char *err, size_t errlen, int *line) {
  init_once();
  first_error fe = {err, errlen, 0, 0};
  if (errlen) err[0] = 0;
  *line = 0;
  // XML_PARSE_NONET: never fetch. No XML_PARSE_NOENT (entities are not substituted) and no
  // XML_PARSE_DTDLOAD / DTDATTR (no external DTD is loaded).
  xmlTextReaderPtr r = xmlReaderForFile(path, NULL, XML_PARSE_NONET);
  if (r == NULL) {
    snprintf(err, errlen, "cannot open the file");
    return 1;
  }
  xmlTextReaderSetStructuredErrorHandler(r, keep_first_v, &fe);
  xmlSchemaValidCtxtPtr vctx = NULL;
  if (schema != NULL) {
    vctx = xmlSchemaNewValidCtxt(schema->schema);
    if (vctx == NULL || xmlTextReaderSchemaValidateCtxt(r, vctx, 0) != 0) {
      if (!fe.seen) snprintf(err, errlen, "cannot attach the schema to the reader");
      xmlFreeTextReader(r);
      if (vctx) xmlSchemaFreeValidCtxt(vctx);
      return 1;
    }
    xmlSchemaSetValidStructuredErrors(vctx, keep_first_v, &fe);
  }
  int ret;
  while ((ret = xmlTextReaderRead(r)) == 1) {
    if (fe.seen) break;
  }
  int bad = ret != 0 || fe.seen;
  if (schema != NULL && !bad && xmlTextReaderIsValid(r) != 1) {
    bad = 1;
    if (!fe.seen) snprintf(err, errlen, "the document is not valid against the schema");
  }
  if (bad && !fe.seen) snprintf(err, errlen, "the document is not well-formed");
  if (bad) *line = fe.line ? fe.line : xmlTextReaderGetParserLineNumber(r);
  // The reader still refers to the validation context: free it first.
  xmlFreeTextReader(r);
  if (vctx) xmlSchemaFreeValidCtxt(vctx);
  return bad;
}
