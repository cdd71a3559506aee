/* SPDX-License-Identifier: MIT
 * An independent IPFIX reader for the tests, built on libfixbuf: reads an IPFIX file or accepts
 * one TCP connection, loads the information model XML, decodes every record with its own
 * template and prints one line per record, "R <tid> <ent>/<num>=<value> ...": unsigned and
 * date-time and signed64 values in decimal, float64 as the 16 hex digits of its bits, addresses as text.
 * Usage: fixbuf_read INFO_MODEL.xml file PATH | tcp PORT | udp PORT RECORDS
 * (udp: ends after RECORDS data records; exit 3 when none came for 20 s, "S ..." printed first)
 * Prints "LISTENING" (tcp) when ready, "T <tid> <fields>" per template, and finally
 * "S templates=<n> records=<n>". Exit 0 on a clean end of input, 1 on any decode error. */
#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long n_templates = 0;

static void OnTemplate(fbSession_t *session, uint16_t tid, fbTemplate_t *tmpl, void *app_ctx, void **tmpl_ctx,
                       fbTemplateCtxFree_fn *fn) {
  (void)app_ctx;
  (void)tmpl_ctx;
  (void)fn;
  GError *err = NULL;
  /* Collect each record in the exporter's own layout: internal template = external. */
  if (!fbSessionAddTemplate(session, TRUE, tid, tmpl, &err)) {
    fprintf(stderr, "add internal template %u: %s\n", tid, err->message);
    g_clear_error(&err);
  }
  printf("T %u %u\n", tid, fbTemplateCountElements(tmpl));
  ++n_templates;
}

static int PrintRecord(uint16_t tid, fbTemplate_t *tmpl, const uint8_t *rec, size_t len) {
  size_t off = 0;
  uint32_t n = fbTemplateCountElements(tmpl);
  printf("R %u", tid);
  for (uint32_t i = 0; i < n; ++i) {
    const fbInfoElement_t *ie = fbTemplateGetIndexedIE(tmpl, i);
    if (off + ie->len > len) {
      fprintf(stderr, "record of template %u shorter than its template\n", tid);
      return 1;
    }
    const uint8_t *p = rec + off;
    printf(" %u/%u=", ie->ent, ie->num);
    switch (ie->type) {
      case FB_FLOAT_64: {
        uint64_t bits;
        memcpy(&bits, p, 8);
        printf("%016" PRIx64, bits);
        break;
      }
      case FB_IP4_ADDR: {
        uint32_t a;
        memcpy(&a, p, 4);
        struct in_addr in = {htonl(a)};
        printf("%s", inet_ntoa(in));
        break;
      }
      case FB_IP6_ADDR: {
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, p, buf, sizeof buf);
        printf("%s", buf);
        break;
      }
      case FB_INT_64: {
        int64_t v;
        memcpy(&v, p, 8);
        printf("%" PRId64, v);
        break;
      }
      default: {
        uint64_t v = 0;
        if (ie->len == 1) v = p[0];
        else if (ie->len == 2) { uint16_t x; memcpy(&x, p, 2); v = x; }
        else if (ie->len == 4) { uint32_t x; memcpy(&x, p, 4); v = x; }
        else if (ie->len == 8) { memcpy(&v, p, 8); }
        else { fprintf(stderr, "unexpected length %u of %u/%u\n", ie->len, ie->ent, ie->num); return 1; }
        printf("%" PRIu64, v);
      }
    }
    off += ie->len;
  }
  printf("\n");
  if (off != len) {
    fprintf(stderr, "record of template %u: %zu bytes decoded, %zu read\n", tid, off, len);
    return 1;
  }
  return 0;
}

static volatile unsigned long n_records_seen = 0;

static void OnAlarm(int sig) {
  (void)sig;
  printf("S templates=%lu records=%lu\n", n_templates, (unsigned long)n_records_seen);
  fflush(stdout);
  fprintf(stderr, "udp: no record for 20 s\n");
  _exit(3);
}

int main(int argc, char **argv) {
  const int udp = argc == 5 && strcmp(argv[2], "udp") == 0;
  if (argc != 4 && !udp) {
    fprintf(stderr, "usage: fixbuf_read INFO_MODEL.xml file PATH | tcp PORT | udp PORT RECORDS\n");
    return 2;
  }
  const unsigned long want = udp ? strtoul(argv[4], NULL, 10) : 0;
  GError *err = NULL;
  fbInfoModel_t *model = fbInfoModelAlloc();
  if (!fbInfoModelReadXMLFile(model, argv[1], &err)) {
    fprintf(stderr, "read %s: %s\n", argv[1], err->message);
    return 1;
  }
  fbSession_t *session = fbSessionAlloc(model);
  fbSessionAddNewTemplateCallback(session, OnTemplate, NULL);
  fBuf_t *fbuf = NULL;
  fbListener_t *listener = NULL;
  if (strcmp(argv[2], "file") == 0) {
    fbCollector_t *c = fbCollectorAllocFile(NULL, argv[3], &err);
    if (!c) {
      fprintf(stderr, "open %s: %s\n", argv[3], err->message);
      return 1;
    }
    fbuf = fBufAllocForCollection(session, c);
  } else {
    fbConnSpec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.transport = udp ? FB_UDP : FB_TCP;
    spec.host = "127.0.0.1";
    spec.svc = argv[3];
    listener = fbListenerAlloc(&spec, session, NULL, NULL, &err);
    if (!listener) {
      fprintf(stderr, "listen on %s: %s\n", argv[3], err->message);
      return 1;
    }
    printf("LISTENING\n");
    fflush(stdout);
    fbuf = fbListenerWait(listener, &err);
    if (!fbuf) {
      fprintf(stderr, "accept: %s\n", err->message);
      return 1;
    }
    fBufSetAutomaticMode(fbuf, TRUE);
    if (udp) {
      signal(SIGALRM, OnAlarm);
      alarm(20);
    }
  }
  static uint8_t rec[65536];
  unsigned long n_records = 0;
  int bad = 0;
  while (!udp || n_records < want) {
    uint16_t tid = 0;
    fbTemplate_t *tmpl = fBufNextCollectionTemplate(fbuf, &tid, &err);
    if (!tmpl) break;
    if (!fBufSetInternalTemplate(fbuf, tid, &err)) break;
    size_t len = sizeof rec;
    if (!fBufNext(fbuf, rec, &len, &err)) break;
    bad |= PrintRecord(tid, tmpl, rec, len);
    n_records_seen = ++n_records;
    if (udp) alarm(20);
  }
  if (err && !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOF)) {
    fprintf(stderr, "decode: %s\n", err->message);
    bad = 1;
  }
  printf("S templates=%lu records=%lu\n", n_templates, n_records);
  return bad;
}
