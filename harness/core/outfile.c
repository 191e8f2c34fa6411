/* Result files checked before any work and written atomically (outfile.h). Design:
 * harness/README.md, "Output files". */
#include "outfile.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

/* mkstemp's template tail after the target's own name; a target whose name leaves no room for
 * it gets a temporary named by short_template in the same directory. */
static const char tmp_suffix[] = ".tmp.XXXXXX";
static const char short_template[] = "/.mmbench-XXXXXX";

static char *copy_of(const char *s, size_t n) {
    char *c = mmb_xrealloc(NULL, n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

/* PATH's directory: "." when it names none, "/" for a file at the root. */
static char *parent_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        return copy_of(".", 1);
    return copy_of(path, slash == path ? 1 : (size_t)(slash - path));
}

static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *dir_template(const char *dir) {
    size_t n = strlen(dir);
    char *t = mmb_xrealloc(NULL, n + sizeof short_template);
    memcpy(t, dir, n);
    memcpy(t + n, short_template, sizeof short_template);
    return t;
}

/* The temporary's template for PATH: "PATH.tmp.XXXXXX" when that fits in a name, else the
 * short one in the same directory. */
static char *temp_template(const char *path) {
    size_t n = strlen(path);
    if (strlen(base_of(path)) + sizeof tmp_suffix - 1 <= NAME_MAX &&
        n + sizeof tmp_suffix <= PATH_MAX) {
        char *t = mmb_xrealloc(NULL, n + sizeof tmp_suffix);
        memcpy(t, path, n);
        memcpy(t + n, tmp_suffix, sizeof tmp_suffix);
        return t;
    }
    char *dir = parent_of(path);
    char *t = dir_template(dir);
    free(dir);
    return t;
}

static const char *kind_of(mode_t m) {
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
           : S_ISLNK(m)  ? "a symbolic link"
                         : "not a regular file";
}

/* PATH itself: missing, or a regular file (then *exists, and *mode its permission bits). A
 * symbolic link is refused, not followed: resolving it would write wherever whoever planted
 * it chose (and bypass the kernel's protected_symlinks in sticky directories). */
static int check_target(const char *cmd, const char *flag, const char *path, bool *exists,
                        mode_t *mode) {
    *exists = false;
    if (!*path)
        return mmb_usage_error(cmd, "give a file's name", "%s: the path is empty", flag);
    if (!*base_of(path))
        return mmb_usage_error(cmd, "give a file's name", "%s %s: names a directory", flag, path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISREG(st.st_mode)) {
            *exists = true;
            *mode = st.st_mode & 0777;
            return EXIT_OK;
        }
        const char *hint = S_ISDIR(st.st_mode)   ? "give a file's name inside it"
                           : S_ISLNK(st.st_mode) ? "give the path of the file it points to"
                                                 : "mmbench writes only regular files";
        return mmb_usage_error(cmd, hint, "%s %s: is %s, not a regular file", flag, path,
                               kind_of(st.st_mode));
    }
    if (errno != ENOENT && errno != ENOTDIR)
        return mmb_usage_error(cmd, NULL, "%s %s: cannot check it: %s", flag, path,
                               strerror(errno));
    return EXIT_OK;
}

/* DIR exists, is a directory, and a file can be created in it: a fresh temporary from
 * TEMPLATE (modified) is created there and removed. The errors name PATH, and DIR where it is
 * not PATH itself. */
static int check_parent(const char *cmd, const char *flag, const char *path, const char *dir,
                        char *template) {
    const char *which = dir == path ? "it" : dir;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return mmb_usage_error(cmd, "create it first", "%s %s: %s%s does not exist", flag, path,
                                   dir == path ? "" : "the directory ",
                                   dir == path ? "the directory" : dir);
        return mmb_usage_error(cmd, NULL, "%s %s: cannot check %s: %s", flag, path, which,
                               strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return mmb_usage_error(cmd, NULL, "%s %s: %s is not a directory", flag, path, which);
    int fd = mkstemp(template);
    if (fd < 0)
        return mmb_usage_error(cmd, "choose a directory you can write",
                               "%s %s: cannot create a file in %s: %s", flag, path, which,
                               strerror(errno));
    close(fd);
    unlink(template);
    return EXIT_OK;
}

int mmb_outfile_check(const char *cmd, const char *flag, const char *path) {
    bool exists;
    mode_t mode;
    int status = check_target(cmd, flag, path, &exists, &mode);
    if (status != EXIT_OK)
        return status;
    char *dir = parent_of(path), *template = temp_template(path);
    status = check_parent(cmd, flag, path, dir, template);
    free(template);
    free(dir);
    return status;
}

int mmb_outfile_check_dir(const char *cmd, const char *flag, const char *dir) {
    char *template = dir_template(dir);
    int status = check_parent(cmd, flag, dir, dir, template);
    free(template);
    return status;
}

/* The process's umask, without changing it even for a moment (other threads may be creating
 * files): from /proc, else by the set-and-restore dance. */
static mode_t current_umask(void) {
    FILE *in = fopen("/proc/self/status", "r");
    char line[256];
    unsigned mask;
    while (in && fgets(line, sizeof line, in))
        if (sscanf(line, "Umask: %o", &mask) == 1) {
            fclose(in);
            return (mode_t)mask & 0777;
        }
    if (in)
        fclose(in);
    mode_t m = umask(022);
    umask(m);
    return m;
}

int mmb_outfile_write(const char *cmd, const char *flag, const char *path, mmb_outfile_fn fill,
                      void *ctx) {
    bool exists;
    mode_t mode = 0;
    int status = check_target(cmd, flag, path, &exists, &mode);
    if (status != EXIT_OK)
        return status;
    if (!exists)
        mode = 0666 & ~current_umask();
    char *tmp = temp_template(path);
    int e = 0, fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
    } else {
        FILE *out = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
        if (!out) {
            e = errno;
            close(fd);
        } else {
            errno = 0;
            if (fill(out, ctx) != 0 || ferror(out))
                e = errno ? errno : EIO;
            if (fclose(out) != 0 && !e)
                e = errno;
        }
        /* Checked again: a non-regular file put there since is never renamed over. */
        if (!e && (status = check_target(cmd, flag, path, &exists, &mode)) == EXIT_OK &&
            rename(tmp, path) != 0)
            e = errno;
        if (e || status != EXIT_OK)
            unlink(tmp);
    }
    free(tmp);
    if (status != EXIT_OK)
        return status;
    if (e) {
        mmb_usage_error(cmd, NULL, "%s %s: cannot write: %s", flag, path, strerror(e));
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

static int dump_json(FILE *out, void *doc) {
    return json_dumpf(doc, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
}

int mmb_outfile_write_json(json_t *doc, const char *cmd, const char *flag, const char *path) {
    return mmb_outfile_write(cmd, flag, path, dump_json, doc);
}
