/* The stream program: a canonical sensor CSV on stdin (header naming t, acc_x, acc_y, acc_z,
 * gyro_x, gyro_y, gyro_z in any order, other columns such as label ignored; seconds, g,
 * rad/s; any rate), one JSON line per window on stdout, like `harlite stream`:
 *   {"window": 0, "start_time": 0.0, "end_time": 2.54, "label": "WALKING",
 *    "confidence": 0.98, "probabilities": {...}, "placement": "pocket"}
 * Options: --placement auto|pocket|waist, --smooth mean:K|vote:K, --max-gap SECONDS.
 * Bad rows are reported on stderr with their line number and skipped; a summary ends it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harlite.h"

#define MAX_LINE 4096
#define MAX_FIELDS 64
static const char *const COLUMNS[7] = {"t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"};

static void print_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", (unsigned char)*s);
        else putchar(*s);
    }
    putchar('"');
}

static void print_window(const harlite_result *r, void *user) {
    const char *const *labels = harlite_labels();
    static const char *const places[] = {NULL, "pocket", "waist"};
    (void)user;
    printf("{\"window\": %lu, \"start_time\": %.6f, \"end_time\": %.6f, \"label\": ",
           (unsigned long)r->index, r->start_time, r->end_time);
    print_string(labels[r->label]);
    printf(", \"confidence\": %.5f, \"probabilities\": {", r->confidence);
    for (int k = 0; k < HARLITE_N_LABELS; k++) {
        if (k) printf(", ");
        print_string(labels[k]);
        printf(": %.5f", r->probabilities[k]);
    }
    putchar('}');
    if (r->smoothed_label >= 0) {
        printf(", \"smoothed_label\": ");
        print_string(labels[r->smoothed_label]);
        printf(", \"smoothed_confidence\": %.5f", r->smoothed_confidence);
    }
    if (r->placement != HARLITE_PLACEMENT_UNKNOWN) {
        printf(", \"placement\": ");
        print_string(places[r->placement]);
    }
    printf("}\n");
}

static int split(char *line, char **fields) {
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < MAX_FIELDS;) {
        fields[n++] = p;
        p = strchr(p, ',');
        if (p == NULL) break;
        *p++ = '\0';
    }
    return n;
}

static int parse_options(int argc, char **argv, harlite_config *cfg) {
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL) { fprintf(stderr, "%s: needs a value\n", argv[i]); return -1; }
        if (!strcmp(argv[i], "--placement")) {
            if (!strcmp(value, "auto")) cfg->placement = HARLITE_PLACEMENT_AUTO;
            else if (!strcmp(value, "pocket")) cfg->placement = HARLITE_PLACEMENT_POCKET;
            else if (!strcmp(value, "waist")) cfg->placement = HARLITE_PLACEMENT_WAIST;
            else { fprintf(stderr, "--placement: auto, pocket or waist, not %s\n", value); return -1; }
        } else if (!strcmp(argv[i], "--smooth")) {
            cfg->smooth_kind = !strncmp(value, "mean:", 5) ? HARLITE_SMOOTH_MEAN
                             : !strncmp(value, "vote:", 5) ? HARLITE_SMOOTH_VOTE : -1;
            cfg->smooth_size = atoi(value + 5);
        } else if (!strcmp(argv[i], "--max-gap")) {
            cfg->max_gap_s = strtod(value, NULL);
        } else { fprintf(stderr, "unknown option %s\n", argv[i]); return -1; }
        i++;
    }
    if (harlite_init(cfg) != 0) {
        fprintf(stderr, "bad settings (--smooth mean:K or vote:K, K 1..%d; --max-gap > 0)\n",
                HARLITE_MAX_SMOOTH);
        return -1;
    }
    return 0;
}

static int find_columns(char *header, int *where) {
    char *fields[MAX_FIELDS];
    const int n = split(header, fields);
    for (int c = 0; c < 7; c++) {
        where[c] = -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(fields[i], COLUMNS[c])) where[c] = i;
        if (where[c] < 0) {
            fprintf(stderr, "line 1: the header has no column %s (t,acc_x,acc_y,acc_z,"
                            "gyro_x,gyro_y,gyro_z[,label])\n", COLUMNS[c]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    static char line[MAX_LINE];
    char *fields[MAX_FIELDS];
    int where[7];
    unsigned long number = 1, bad = 0;
    harlite_config cfg;
    harlite_default_config(&cfg);
    cfg.on_window = print_window;
    if (parse_options(argc, argv, &cfg) != 0) return 2;
    if (fgets(line, sizeof(line), stdin) == NULL || find_columns(line, where) != 0) {
        if (feof(stdin)) fprintf(stderr, "no header line on stdin\n");
        return 2;
    }
    while (fgets(line, sizeof(line), stdin) != NULL) {
        double v[7];
        int ok = 1;
        number++;
        if (line[strspn(line, " \t\r\n")] == '\0') continue;
        const int n = split(line, fields);
        for (int c = 0; c < 7 && ok; c++) {
            char *end;
            ok = where[c] < n && *fields[where[c]] != '\0';
            if (ok) v[c] = strtod(fields[where[c]], &end);
            ok = ok && *end == '\0';
        }
        if (!ok) {
            fprintf(stderr, "line %lu: not a row of numbers, skipped\n", number);
            bad++;
            continue;
        }
        harlite_push(v[0], v[1], v[2], v[3], v[4], v[5], v[6], NULL);
    }
    harlite_finish();
    harlite_stats s;
    harlite_get_stats(&s);
    fprintf(stderr, "%lu windows; %lu samples accepted, %lu refused (values), %lu refused "
            "(timestamps), %lu unreadable lines; %lu gaps, %lu resyncs\n",
            (unsigned long)s.windows, (unsigned long)s.accepted, (unsigned long)s.refused_values,
            (unsigned long)s.refused_time, bad, (unsigned long)s.gaps, (unsigned long)s.resyncs);
    return 0;
}
