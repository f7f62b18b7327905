/* csv_writer.c - RFC 4180 CSV files of records (see csv_writer.h). */
#include "csv_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096

struct csv_file {
    FILE *fp;
    char tmp[PATH_CAP];
    char final[PATH_CAP];
    uint64_t rows;
};

struct csv_writer {
    struct csv_file files[2]; /* [0] calls, [1] sms */
};

static struct csv_file *file_for(struct csv_writer *w, enum record_kind k)
{
    return &w->files[k == RECORD_CALL ? 0 : 1];
}

static void put_field(FILE *fp, const char *s)
{
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static int open_file(struct csv_file *f, const char *dir, enum record_kind kind, char *err, size_t errlen)
{
    const char *name = kind == RECORD_CALL ? "calls" : "sms";
    int n1 = snprintf(f->final, sizeof(f->final), "%s/%s.csv", dir, name);
    int n2 = snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.csv.tmp", dir, name);
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(f->final) || (size_t)n2 >= sizeof(f->tmp)) {
        snprintf(err, errlen, "output directory path too long");
        return -1;
    }
    f->fp = fopen(f->tmp, "w");
    if (f->fp == NULL) {
        snprintf(err, errlen, "cannot create %s: %s", f->tmp, strerror(errno));
        return -1;
    }
    size_t ncols;
    const char *const *cols = record_columns(kind, &ncols);
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            fputc(',', f->fp);
        fputs(cols[i], f->fp);
    }
    fputs("\n", f->fp);
    return 0;
}

struct csv_writer *csv_writer_open(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct csv_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (open_file(&w->files[0], dir, RECORD_CALL, err, errlen) != 0 ||
        open_file(&w->files[1], dir, RECORD_SMS, err, errlen) != 0) {
        csv_writer_abort(w);
        return NULL;
    }
    return w;
}

int csv_writer_write(struct csv_writer *w, const struct record *r, char *err, size_t errlen)
{
    struct csv_file *f = file_for(w, r->kind);
    size_t ncols;
    record_columns(r->kind, &ncols);
    char buf[REC_FIELD_MAX];
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            fputc(',', f->fp);
        put_field(f->fp, record_format_field(r, i, buf, sizeof(buf)));
    }
    fputs("\n", f->fp);
    if (ferror(f->fp)) {
        snprintf(err, errlen, "cannot write %s: %s", f->tmp, strerror(errno));
        return -1;
    }
    f->rows++;
    return 0;
}

int csv_writer_close(struct csv_writer *w, char *err, size_t errlen)
{
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        struct csv_file *f = &w->files[i];
        if (f->fp == NULL)
            continue;
        if (rc == 0 && (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0)) {
            snprintf(err, errlen, "cannot write %s: %s", f->tmp, strerror(errno));
            rc = -1;
        }
        if (fclose(f->fp) != 0 && rc == 0) {
            snprintf(err, errlen, "cannot close %s: %s", f->tmp, strerror(errno));
            rc = -1;
        }
        f->fp = NULL;
    }
    for (int i = 0; i < 2 && rc == 0; i++) {
        struct csv_file *f = &w->files[i];
        if (rename(f->tmp, f->final) != 0) {
            snprintf(err, errlen, "cannot rename %s: %s", f->tmp, strerror(errno));
            rc = -1;
        }
    }
    if (rc != 0)
        for (int i = 0; i < 2; i++)
            unlink(w->files[i].tmp);
    free(w);
    return rc;
}

void csv_writer_abort(struct csv_writer *w)
{
    for (int i = 0; i < 2; i++) {
        struct csv_file *f = &w->files[i];
        if (f->fp != NULL) {
            fclose(f->fp);
            unlink(f->tmp);
        }
    }
    free(w);
}

uint64_t csv_writer_rows(const struct csv_writer *w, enum record_kind kind)
{
    return w->files[kind == RECORD_CALL ? 0 : 1].rows;
}
