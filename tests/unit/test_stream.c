/* test_stream.c - stream keys: the same input gives the same key, any
 * change that could renumber records gives another. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "stream.h"

static char dir[64], a[128], b[128];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

static void set_mtime(const char *path, time_t sec)
{
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    CHECK_EQ_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static const char *key(const char *const *files, size_t n, const char *salt, char *out)
{
    char err[128];
    CHECK_EQ_INT(stream_key_files(files, n, salt, out, STREAM_KEY_MAX, err, sizeof(err)), 0);
    return out;
}

static void items_are_delimited(void)
{
    struct stream_hash x, y;
    char tx[STREAM_KEY_MAX], ty[STREAM_KEY_MAX];
    stream_hash_init(&x);
    stream_hash_add(&x, "ab", 2);
    stream_hash_add(&x, "c", 1);
    stream_hash_init(&y);
    stream_hash_add(&y, "a", 1);
    stream_hash_add(&y, "bc", 2);
    CHECK_EQ_INT(stream_hash_text(&x, "t-", tx, sizeof(tx)), 0);
    CHECK_EQ_INT(stream_hash_text(&y, "t-", ty, sizeof(ty)), 0);
    CHECK(strcmp(tx, ty) != 0);
    CHECK_EQ_INT(strlen(tx), 34);
    CHECK_EQ_INT(stream_hash_text(&x, "t-", tx, 34), -1); /* no room for the NUL */
    CHECK_EQ_STR(tx, "");

    /* Items longer than one chunk: every byte counts. */
    char big[1000];
    memset(big, 'x', sizeof(big));
    stream_hash_init(&x);
    stream_hash_add(&x, big, sizeof(big));
    big[999] = 'y';
    stream_hash_init(&y);
    stream_hash_add(&y, big, sizeof(big));
    stream_hash_text(&x, "", tx, sizeof(tx));
    stream_hash_text(&y, "", ty, sizeof(ty));
    CHECK(strcmp(tx, ty) != 0);
}

static void same_input_same_key(void)
{
    char k1[STREAM_KEY_MAX], k2[STREAM_KEY_MAX], cwd[512];
    const char *files[2] = {a, b};
    key(files, 2, "burst=256", k1);
    CHECK(strncmp(k1, "read-", 5) == 0);
    CHECK_EQ_INT(strlen(k1), 37);
    CHECK_EQ_STR(key(files, 2, "burst=256", k2), k1);

    /* The same files by other names: relative, through a subdirectory. */
    char sub[160];
    snprintf(sub, sizeof(sub), "%s/x", dir);
    CHECK_EQ_INT(mkdir(sub, 0700), 0);
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK_EQ_INT(chdir(dir), 0);
    const char *rel[2] = {"./a.pcap", "x/../b.pcap"};
    CHECK_EQ_STR(key(rel, 2, "burst=256", k2), k1);
    CHECK_EQ_INT(chdir(cwd), 0);
    rmdir(sub);
}

static void any_change_new_key(void)
{
    char k1[STREAM_KEY_MAX], k2[STREAM_KEY_MAX];
    const char *files[2] = {a, b};
    key(files, 2, "burst=256", k1);
    const char *swapped[2] = {b, a};
    CHECK(strcmp(key(swapped, 2, "burst=256", k2), k1) != 0);
    const char *one[1] = {a};
    CHECK(strcmp(key(one, 1, "burst=256", k2), k1) != 0);
    CHECK(strcmp(key(files, 2, "burst=128", k2), k1) != 0);
    set_mtime(b, 1500000000);
    CHECK(strcmp(key(files, 2, "burst=256", k2), k1) != 0);
    set_mtime(b, 1400000000);
    key(files, 2, "burst=256", k1);
    write_file(b, "owt"); /* same size, new content, mtime put back */
    set_mtime(b, 1400000000);
    CHECK_EQ_STR(key(files, 2, "burst=256", k2), k1); /* documented limit: same size and mtime */
    write_file(b, "longer content");
    set_mtime(b, 1400000000);
    CHECK(strcmp(key(files, 2, "burst=256", k2), k1) != 0);
    const char *missing[2] = {a, "/nonexistent/c.pcap"};
    char err[64];
    CHECK_EQ_INT(stream_key_files(missing, 2, "", k2, sizeof(k2), err, sizeof(err)), 0);
    CHECK_EQ_INT(stream_key_files(files, 2, "", k2, 10, err, sizeof(err)), -1);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sipcdr-stream-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(a, sizeof(a), "%s/a.pcap", dir);
    snprintf(b, sizeof(b), "%s/b.pcap", dir);
    write_file(a, "one");
    write_file(b, "two");
    set_mtime(a, 1400000000);
    set_mtime(b, 1400000000);
    RUN(items_are_delimited);
    RUN(same_input_same_key);
    RUN(any_change_new_key);
    unlink(a);
    unlink(b);
    rmdir(dir);
    return check_summary();
}
