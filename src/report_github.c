/* report_github.c -- GitHub annotations (being written). */
#include "report.h"
void kl_report_github_finding(kl_reporter *r, const kl_finding *f) { (void)r; (void)f; }
void kl_report_github_finish(kl_reporter *r) { (void)r; }
