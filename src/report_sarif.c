/* report_sarif.c -- SARIF 2.1.0 (being written). */
#include "report.h"
int kl_report_sarif_begin(kl_reporter *r) { (void)r; return 0; }
void kl_report_sarif_finding(kl_reporter *r, const kl_finding *f) { (void)r; (void)f; }
void kl_report_sarif_finish(kl_reporter *r) { (void)r; }
void kl_report_sarif_free(kl_reporter *r) { (void)r; }
