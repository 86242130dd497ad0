/* SPDX-License-Identifier: Apache-2.0 */
/*
 * files.c - how the CLI reads its inputs and writes into an output
 * directory: never waiting on a FIFO, never through a link, and only into
 * a directory the library would record into (trust.h).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

char *sp_read_file(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	/* Never a FIFO or a device: a reader would wait on it for ever. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			char *g;

			cap = cap ? cap * 2 : 65536;
			if (cap > max || !(g = realloc(buf, cap))) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			buf = g;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int sp_write_in_dir(const char *dir, const char *name, const char *text, const char **why)
{
	struct sp_trust_id id = { 0 };
	char tmp[300];
	size_t len = strlen(text), off = 0;
	long dfd = sp_trust_dir(AT_FDCWD, dir, 0, &id);
	int fd = -1, err = 0;

	*why = NULL;
	if (dfd < 0) {
		*why = sp_trust_what(dfd);
		errno = *why ? EPERM : (int)-dfd;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ".%s.", name);
	if (sp_trust_tmpname(tmp, sizeof(tmp), tmp) < 0) {
		err = ENAMETOOLONG;
		goto out;
	}
	fd = openat((int)dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			goto out;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		err = errno;
		goto out;
	}
	fd = -1;
	if (renameat((int)dfd, tmp, (int)dfd, name) < 0)
		err = errno;
out:
	if (fd >= 0)
		close(fd);
	if (err)
		unlinkat((int)dfd, tmp, 0);
	close((int)dfd);
	errno = err;
	return err ? -1 : 0;
}
