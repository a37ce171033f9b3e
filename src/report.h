/*
 * report.h -- the state every reporter shares (report.c) and the entry
 * points of each format's file (report_text.c, report_json.c).
 */
#ifndef KL_REPORT_H
#define KL_REPORT_H

#include "kl_internal.h"

struct kl_reporter {
    kl_format format;
    FILE *out;
    int color;
    char *path; /* current file, as shown */
    const char *input;
    size_t len;
    /* counts for the summary */
    size_t files;
    size_t files_with_findings;
    size_t findings;
    size_t by_severity[KL_SEVERITY_ERROR + 1];
    size_t by_category[KL_CATEGORY_COUNT];
    int file_has_findings;
    int json_first; /* json: no finding printed yet */
    void *sarif;    /* report_sarif.c state */
    /* chat: counts per speaker (by the name as shown), in order of first
     * finding, found by a hash of the name in speaker_slot (speaker
     * index + 1, 0 empty; a power of two, at most half full) */
    struct kl_speaker_count {
        char *name;
        size_t name_len;
        size_t findings;
        size_t by_category[KL_CATEGORY_COUNT];
    } *speakers;
    size_t nspeakers, speakers_cap;
    size_t *speaker_slot;
    size_t nslots;
};

/* Writes s as valid UTF-8 with control characters (C0 but tab, DEL, C1)
 * and invalid bytes shown as U+FFFD, so no input can drive the terminal. */
void kl_put_sanitized(FILE *out, const char *s, size_t len);
/* Appends s to b as valid UTF-8 (invalid bytes become U+FFFD). */
void kl_utf8_sanitize(const char *s, size_t len, kl_buf *b);

void kl_report_text_finding(kl_reporter *r, const kl_finding *f);
void kl_report_line_finding(kl_reporter *r, const kl_finding *f);
void kl_report_text_finish(kl_reporter *r);
void kl_report_json_begin(kl_reporter *r);
void kl_report_json_finding(kl_reporter *r, const kl_finding *f);
void kl_report_json_finish(kl_reporter *r);
/* report_sarif.c: results are written as they come, the rest by finish. */
int kl_report_sarif_begin(kl_reporter *r);
void kl_report_sarif_finding(kl_reporter *r, const kl_finding *f);
void kl_report_sarif_finish(kl_reporter *r);
void kl_report_sarif_free(kl_reporter *r);
void kl_report_sarif_file(kl_reporter *r);
/* report_github.c */
void kl_report_github_finding(kl_reporter *r, const kl_finding *f);
void kl_report_github_finish(kl_reporter *r);

#endif
