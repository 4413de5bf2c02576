#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/SAX2.h>
#include <stdlib.h>
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
  // Errors of the XML parser underneath go to libxml2's per-thread handler, which prints to
  // stderr unless set: catch them too, for this call only.
  xmlStructuredErrorFunc saved = xmlStructuredError;
  void *savedCtx = xmlStructuredErrorContext;
  xmlSetStructuredErrorFunc(&fe, keep_first_v);
  xmlSchemaPtr schema = xmlSchemaParse(pctx);
  xmlSetStructuredErrorFunc(savedCtx, saved);
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

struct sendplan_xml_push {
  xmlParserCtxtPtr ctxt;
  xmlSchemaValidCtxtPtr vctx;
  xmlSchemaSAXPlugPtr plug;
  xmlSAXHandler sax;
  xmlSAXHandlerPtr saxp;
  void *user;
  first_error fe;
  char msg[512];
  int finished;
};

static int push_line(sendplan_xml_push *p) {
  return (p->ctxt != NULL && p->ctxt->input != NULL) ? p->ctxt->input->line : 0;
}

static int push_locator(void *ctx, const char **file, unsigned long *line) {
  sendplan_xml_push *p = ctx;
  if (file) *file = NULL;
  if (line) *line = (unsigned long)push_line(p);
  return 0;
}

sendplan_xml_push *sendplan_xml_push_new(const sendplan_xml_schema *schema) {
  init_once();
  sendplan_xml_push *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->fe.buf = p->msg;
  p->fe.len = sizeof p->msg;
  // An empty SAX2 handler: nothing is built, so only the validator (when plugged) sees the events.
  memset(&p->sax, 0, sizeof p->sax);
  p->sax.initialized = XML_SAX2_MAGIC;
  p->saxp = &p->sax;
  p->user = NULL;
  if (schema != NULL) {
    p->vctx = xmlSchemaNewValidCtxt(schema->schema);
    if (p->vctx == NULL) {
      free(p);
      return NULL;
    }
    xmlSchemaSetValidStructuredErrors(p->vctx, keep_first_v, &p->fe);
    p->plug = xmlSchemaSAXPlug(p->vctx, &p->saxp, &p->user);
    if (p->plug == NULL) {
      xmlSchemaFreeValidCtxt(p->vctx);
      free(p);
      return NULL;
    }
  }
  p->ctxt = xmlCreatePushParserCtxt(p->saxp, p->user, NULL, 0, NULL);
  if (p->ctxt == NULL) {
    sendplan_xml_push_free(p);
    return NULL;
  }
  // XML_PARSE_NONET: never fetch. No XML_PARSE_NOENT, DTDLOAD or DTDATTR: entities are not
  // substituted and no external DTD is loaded. The handler has no entity callbacks, so a
  // document's own entity declarations are never expanded either.
  xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET);
  if (p->vctx != NULL) xmlSchemaValidateSetLocator(p->vctx, push_locator, p);
  return p;
}

int sendplan_xml_push_feed(sendplan_xml_push *p, const char *bytes, size_t len, int last) {
  if (p->finished || p->fe.seen) return 1;
  // Parser errors go to this thread's structured handler for the duration of the call (libxml2
  // keeps that handler per thread), so each document's first error is its own.
  xmlStructuredErrorFunc saved = xmlStructuredError;
  void *savedCtx = xmlStructuredErrorContext;
  xmlSetStructuredErrorFunc(&p->fe, keep_first_v);
  int rc = 0;
  const size_t step = 1 << 30;
  do {
    size_t n = len > step ? step : len;
    rc = xmlParseChunk(p->ctxt, bytes, (int)n, (last && n == len) ? 1 : 0);
    bytes += n;
    len -= n;
  } while (rc == 0 && len > 0 && !p->fe.seen);
  xmlSetStructuredErrorFunc(savedCtx, saved);
  if (last) p->finished = 1;
  if (p->fe.seen && p->fe.line == 0) p->fe.line = push_line(p);
  return (rc != 0 || p->fe.seen || !p->ctxt->wellFormed) ? 1 : 0;
}

int sendplan_xml_push_result(sendplan_xml_push *p, char *err, size_t errlen, int *line) {
  int bad = p->fe.seen || !p->finished || !p->ctxt->wellFormed;
  if (!bad && p->vctx != NULL && xmlSchemaIsValid(p->vctx) != 1) bad = 1;
  if (errlen) err[0] = 0;
  *line = 0;
  if (!bad) return 0;
  if (p->fe.seen) {
    snprintf(err, errlen, "%s", p->msg);
    *line = p->fe.line ? p->fe.line : push_line(p);
  } else if (!p->finished) {
    snprintf(err, errlen, "the document ends early");
    *line = push_line(p);
  } else {
    snprintf(err, errlen, p->vctx ? "the document is not valid against the schema" : "the document is not well-formed");
    *line = push_line(p);
  }
  return 1;
}

void sendplan_xml_push_free(sendplan_xml_push *p) {
  if (p == NULL) return;
  if (p->ctxt != NULL) xmlFreeParserCtxt(p->ctxt);
  if (p->plug != NULL) xmlSchemaSAXUnplug(p->plug);
  if (p->vctx != NULL) xmlSchemaFreeValidCtxt(p->vctx);
  free(p);
}
