/* Unit tests of the result-file helper (harness/outfile.h): what it refuses before any work,
 * and that neither a planted symbolic link nor a failed write can touch anything but the target.
 * Everything is written under a fresh mkdtemp directory, removed at the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "diag.h"
#include "outfile.h"
#include "test.h"

static char dir[64];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/mmb-outfile-XXXXXX");
    ASSERT_TRUE(mkdtemp(dir) != NULL);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    chmod(path, 0700);
    return remove(path);
}

static void remove_dir(void) {
    chmod(dir, 0700);
    ASSERT_EQ(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* DIR/NAME, in a static buffer (one at a time). */
static const char *at(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* The directory's entries, the temporaries' included. */
static int entries(const char *d) {
    DIR *h = opendir(d);
    ASSERT_TRUE(h != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(h)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(h);
    return n;
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    ASSERT_EQ(fclose(f), 0);
}

static int calls;

static int write_text(FILE *out, void *text) {
    calls++;
    return fputs(text, out) < 0 ? -1 : 0;
}

static int write_then_fail(FILE *out, void *text) {
    calls++;
    fputs(text, out);
    errno = ENOSPC;
    return -1;
}

/* Runs fn with stderr sent to a file; returns what it printed. */
static char captured[4096];
static int capture(int (*fn)(const char *), const char *path) {
    fflush(stderr);
    int saved = dup(2);
    char name[80];
    snprintf(name, sizeof name, "%s/.stderr", dir);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    close(fd);
    int status = fn(path);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    snprintf(captured, sizeof captured, "%s", mmb_test_slurp(name));
    unlink(name);
    return status;
}

static int check(const char *path) {
    return mmb_outfile_check("test", "--out", path);
}

static int write_new(const char *path) {
    return mmb_outfile_write("test", "--out", path, write_text, "new\n");
}

/* PATH is refused by the check with one line naming it and WHAT, and by the write with
 * WRITE_STATUS (a directory gone since the check is a failed write, EXIT_FAILED); the writer is
 * never called and the directory holds what it held. */
static void expect_refused_as(const char *path, const char *what, int write_status) {
    int before = entries(dir);
    ASSERT_EQ(capture(check, path), EXIT_USAGE);
    ASSERT_STR_CONTAINS(captured, "mmbench: error: test: --out ");
    ASSERT_STR_CONTAINS(captured, path);
    ASSERT_STR_CONTAINS(captured, what);
    ASSERT_TRUE(strchr(captured, '\n') == captured + strlen(captured) - 1);
    calls = 0;
    ASSERT_EQ(capture(write_new, path), write_status);
    ASSERT_STR_CONTAINS(captured, path);
    if (write_status == EXIT_USAGE)
        ASSERT_STR_CONTAINS(captured, what);
    ASSERT_EQ(calls, 0);
    ASSERT_EQ(entries(dir), before);
}

/* What is there is refused; the write says so too (EXIT_USAGE). */
static void expect_refused(const char *path, const char *what) {
    expect_refused_as(path, what, EXIT_USAGE);
}

TEST(outfile_writes_with_the_permissions_fopen_gives) {
    make_dir();
    mode_t old = umask(022);
    struct stat st;
    ASSERT_EQ(check(at("a.json")), EXIT_OK);
    ASSERT_EQ(entries(dir), 0); /* the check's probe is gone */
    ASSERT_EQ(write_new(at("a.json")), EXIT_OK);
    ASSERT_TRUE(strcmp(mmb_test_slurp(at("a.json")), "new\n") == 0);
    ASSERT_EQ(stat(at("a.json"), &st), 0);
    ASSERT_EQ(st.st_mode & 07777, 0644);
    umask(077);
    ASSERT_EQ(write_new(at("b.json")), EXIT_OK);
    ASSERT_EQ(stat(at("b.json"), &st), 0);
    ASSERT_EQ(st.st_mode & 07777, 0600);
    /* An existing file keeps its own permissions, as with fopen. */
    put(at("c.json"), "old\n");
    ASSERT_EQ(chmod(at("c.json"), 0640), 0);
    ASSERT_EQ(write_new(at("c.json")), EXIT_OK);
    ASSERT_TRUE(strcmp(mmb_test_slurp(at("c.json")), "new\n") == 0);
    ASSERT_EQ(stat(at("c.json"), &st), 0);
    ASSERT_EQ(st.st_mode & 07777, 0640);
    ASSERT_EQ(entries(dir), 3); /* no temporary left */
    umask(old);
    remove_dir();
}

TEST(outfile_planted_symlinks_do_not_redirect_the_write) {
    make_dir();
    put(at("victim"), "victim\n");
    char name[128];
    /* The temporary's old, predictable name, and others of its shapes. */
    snprintf(name, sizeof name, "out.json.tmp.%ld", (long)getpid());
    ASSERT_EQ(symlink("victim", at(name)), 0);
    const char *others[] = {"out.json.tmp", "out.json.tmp.XXXXXX", ".mmbench-XXXXXX",
                            "out.json.tmp.000000", "out.json.new"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        ASSERT_EQ(symlink("victim", at(others[i])), 0);
    ASSERT_EQ(symlink("victim-that-does-not-exist", at("out.json.tmp.1")), 0);
    int before = entries(dir);
    for (int round = 0; round < 50; round++)
        ASSERT_EQ(write_new(at("out.json")), EXIT_OK);
    ASSERT_TRUE(strcmp(mmb_test_slurp(at("victim")), "victim\n") == 0);
    ASSERT_TRUE(strcmp(mmb_test_slurp(at("out.json")), "new\n") == 0);
    struct stat st;
    ASSERT_EQ(lstat(at("out.json"), &st), 0);
    ASSERT_TRUE(S_ISREG(st.st_mode));
    ASSERT_EQ(lstat(at(name), &st), 0);
    ASSERT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(lstat(at("out.json.tmp.1"), &st), 0);
    ASSERT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(entries(dir), before + 1); /* out.json, and nothing else */
    /* A symbolic link planted at the target itself is refused, not followed. */
    ASSERT_EQ(symlink("victim", at("target.json")), 0);
    expect_refused(at("target.json"), "is a symbolic link");
    ASSERT_TRUE(strcmp(mmb_test_slurp(at("victim")), "victim\n") == 0);
    remove_dir();
}

TEST(outfile_refuses_what_is_not_a_regular_file) {
    make_dir();
    ASSERT_EQ(mkfifo(at("fifo"), 0600), 0);
    expect_refused(at("fifo"), "is a FIFO, not a regular file");
    struct stat st;
    ASSERT_EQ(lstat(at("fifo"), &st), 0);
    ASSERT_TRUE(S_ISFIFO(st.st_mode));
    ASSERT_EQ(mkdir(at("sub"), 0700), 0);
    expect_refused(at("sub"), "is a directory");
    ASSERT_EQ(lstat(at("sub"), &st), 0);
    ASSERT_TRUE(S_ISDIR(st.st_mode));
    put(at("file"), "file\n");
    ASSERT_EQ(symlink("file", at("link")), 0);
    expect_refused(at("link"), "is a symbolic link");
    ASSERT_TRUE(strcmp(mmb_test_slurp(at("file")), "file\n") == 0);
    ASSERT_EQ(symlink("fifo", at("fifo-link")), 0);
    expect_refused(at("fifo-link"), "is a symbolic link");
    ASSERT_EQ(symlink("nothing-here", at("dangling")), 0);
    expect_refused(at("dangling"), "is a symbolic link");
    ASSERT_EQ(lstat(at("nothing-here"), &st), -1);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    ASSERT_TRUE(strlen(at("sock")) < sizeof addr.sun_path);
    memcpy(addr.sun_path, at("sock"), strlen(at("sock")) + 1);
    ASSERT_TRUE(s >= 0);
    ASSERT_EQ(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    expect_refused(at("sock"), "is a socket");
    close(s);
    /* A character device of the test's own, made in its directory with the null device's numbers
     * (root only; nothing under /dev is touched): refused, and still a device afterwards. */
    if (mknod(at("null"), S_IFCHR | 0600, makedev(1, 3)) == 0) {
        expect_refused(at("null"), "is a character device, not a regular file");
        ASSERT_EQ(lstat(at("null"), &st), 0);
        ASSERT_TRUE(S_ISCHR(st.st_mode));
    } else {
        fprintf(stderr, "note: mknod not permitted here: the character-device case is not run\n");
    }
    remove_dir();
}

TEST(outfile_refuses_a_missing_or_unusable_directory) {
    make_dir();
    expect_refused_as(at("missing/out.json"), "the directory ", EXIT_FAILED);
    ASSERT_EQ(capture(check, at("missing/out.json")), EXIT_USAGE);
    ASSERT_STR_CONTAINS(captured, "/missing does not exist (hint: create it first)");
    put(at("file"), "file\n");
    expect_refused_as(at("file/out.json"), "/file is not a directory", EXIT_FAILED);
    expect_refused(at("sub/"), "names a directory");
    ASSERT_EQ(capture(check, ""), EXIT_USAGE);
    ASSERT_STR_CONTAINS(captured, "--out: the path is empty");
    ASSERT_EQ(mmb_outfile_check_dir("test", "--hgrm", at("file")), EXIT_USAGE);
    ASSERT_EQ(mmb_outfile_check_dir("test", "--hgrm", dir), EXIT_OK);
    ASSERT_EQ(entries(dir), 1);
    remove_dir();
}

TEST(outfile_refuses_an_unwritable_directory) {
    if (geteuid() == 0) {
        SKIP("running as root: permissions do not stop root");
    }
    make_dir();
    ASSERT_EQ(mkdir(at("ro"), 0500), 0);
    expect_refused_as(at("ro/out.json"), "cannot create a file in ", EXIT_FAILED);
    ASSERT_STR_CONTAINS(captured, "Permission denied");
    remove_dir();
}

TEST(outfile_failed_write_leaves_the_target_as_it_was) {
    make_dir();
    put(at("out.json"), "old\n");
    calls = 0;
    ASSERT_EQ(mmb_outfile_write("test", "--out", at("out.json"), write_then_fail, "partial"),
              EXIT_FAILED);
    ASSERT_EQ(calls, 1);
    ASSERT_TRUE(strcmp(mmb_test_slurp(at("out.json")), "old\n") == 0);
    ASSERT_EQ(entries(dir), 1);
    ASSERT_EQ(mmb_outfile_write("test", "--out", at("new.json"), write_then_fail, "partial"),
              EXIT_FAILED);
    ASSERT_EQ(entries(dir), 1);
    remove_dir();
}

static int write_failing(const char *path) {
    return mmb_outfile_write("test", "--out", path, write_then_fail, "partial");
}

TEST(outfile_error_line_names_the_path_and_the_errno) {
    make_dir();
    ASSERT_EQ(capture(write_failing, at("out.json")), EXIT_FAILED);
    ASSERT_STR_CONTAINS(captured, "mmbench: error: test: --out ");
    ASSERT_STR_CONTAINS(captured, "/out.json: cannot write: No space left on device\n");
    ASSERT_TRUE(strchr(captured, '\n') == captured + strlen(captured) - 1);
    ASSERT_EQ(entries(dir), 0);
    remove_dir();
}

TEST(outfile_longest_name_gets_a_short_temporary) {
    make_dir();
    char name[256];
    memset(name, 'n', 250); /* room for the name, none for ".tmp.XXXXXX" after it */
    name[250] = '\0';
    ASSERT_EQ(check(at(name)), EXIT_OK);
    ASSERT_EQ(write_new(at(name)), EXIT_OK);
    ASSERT_TRUE(strcmp(mmb_test_slurp(at(name)), "new\n") == 0);
    ASSERT_EQ(entries(dir), 1);
    remove_dir();
}
