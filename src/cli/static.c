/* SPDX-License-Identifier: Apache-2.0 */
/*
 * static.c - a command that is a static program never loads
 * libstartpath.so: `startpath run` and `startpath wrap` start it through
 * startpath-exec (installed next to this program), which brings the same
 * recorder into it.
 */
#include "cli.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 if path is an ELF without an interpreter (static), 0 if dynamic or not
 * ELF (a script), -1 if it cannot be read. */
int sp_elf_static(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), st = 1;

	if (fd < 0)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP)
			st = 0;
	}
	close(fd);
	return st;
}

/* 1 if the ELF at path has .gopclntab or .symtab, which startpath-exec needs
 * to find the program's syscall sites (a stripped static C program has
 * neither: nothing of it could be recorded but its process span). */
static int has_function_table(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	char name[16];

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_shentsize != sizeof(sh) ||
	    eh.e_shstrndx >= eh.e_shnum ||
	    pread(fd, &str, sizeof(str), (off_t)(eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(sh))) !=
		    sizeof(str)) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < eh.e_shnum && !found; i++) {
		if (pread(fd, &sh, sizeof(sh), (off_t)(eh.e_shoff + (uint64_t)i * sizeof(sh))) !=
			    sizeof(sh) ||
		    pread(fd, name, sizeof(name), (off_t)(str.sh_offset + sh.sh_name)) <= 0)
			break;
		name[sizeof(name) - 1] = '\0';
		found = strcmp(name, ".gopclntab") == 0 || strcmp(name, ".symtab") == 0;
	}
	close(fd);
	return found;
}

char **sp_static_argv(char **cmd, const char *exe)
{
	char self[PATH_MAX], *launcher, **la, *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int argc = 0, k = 0;

	if (sp_elf_static(exe) <= 0 || !has_function_table(exe) || n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (asprintf(&launcher, "%s/startpath-exec", self) < 0)
		return NULL;
	if (access(launcher, X_OK) != 0) {
		free(launcher);
		return NULL;
	}
	while (cmd[argc])
		argc++;
	la = calloc((size_t)argc + 6, sizeof(char *));
	if (!la) {
		free(launcher);
		return NULL;
	}
	la[k++] = launcher;
	la[k++] = "--argv0";
	la[k++] = cmd[0];
	la[k++] = "--";
	la[k++] = (char *)exe;
	for (int j = 1; cmd[j]; j++)
		la[k++] = cmd[j];
	return la;
}

int sp_which(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/'))
		return realpath(name, out) && strlen(out) < len ? 0 : -1;
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t l = strcspn(p, ":");
		char cand[PATH_MAX];

		if (l && snprintf(cand, sizeof(cand), "%.*s/%s", (int)l, p, name) < (int)sizeof(cand) &&
		    access(cand, X_OK) == 0 && realpath(cand, out) && strlen(out) < len)
			return 0;
		p += l;
		if (*p == ':')
			p++;
	}
	return -1;
}
