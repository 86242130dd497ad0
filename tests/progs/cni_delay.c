/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cni_delay - a chained CNI plugin that only waits: in ADD it sleeps for
 * the seconds written in the file its network config names ("delayFile";
 * none or empty: no wait) and passes the previous plugin's result on; DEL
 * and CHECK do nothing; VERSION says which versions it speaks.  The tests
 * slow a pod's network setup with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char conf[1 << 16];

/* The JSON value after "key": in conf (an object or a string), copied out. */
static int value_of(const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;
	int depth = 0, str = 0;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(conf, pat);
	if (!p)
		return -1;
	p = strchr(p + strlen(pat), ':');
	if (!p)
		return -1;
	for (p++; *p == ' ' || *p == '\n' || *p == '\t'; p++)
		;
	if (*p == '"') {
		e = strchr(p + 1, '"');
		if (!e || (size_t)(e - p - 1) >= len)
			return -1;
		memcpy(out, p + 1, (size_t)(e - p - 1));
		out[e - p - 1] = '\0';
		return 0;
	}
	for (e = p; *e; e++) {
		if (str) {
			if (*e == '\\' && e[1])
				e++;
			else if (*e == '"')
				str = 0;
			continue;
		}
		if (*e == '"')
			str = 1;
		else if (*e == '{' || *e == '[')
			depth++;
		else if ((*e == '}' || *e == ']') && --depth == 0)
			break;
	}
	if (!*e || (size_t)(e - p + 1) >= len)
		return -1;
	memcpy(out, p, (size_t)(e - p + 1));
	out[e - p + 1] = '\0';
	return 0;
}

int main(void)
{
	const char *cmd = getenv("CNI_COMMAND");
	static char prev[1 << 16];
	char file[512];
	size_t n;

	if (!cmd) {
		fprintf(stderr, "cni_delay: CNI_COMMAND not set\n");
		return 1;
	}
	if (strcmp(cmd, "VERSION") == 0) {
		puts("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}");
		return 0;
	}
	n = fread(conf, 1, sizeof(conf) - 1, stdin);
	conf[n] = '\0';
	if (strcmp(cmd, "ADD") != 0)
		return 0;
	if (value_of("delayFile", file, sizeof(file)) == 0) {
		FILE *f = fopen(file, "r");
		double s = 0;

		if (f) {
			if (fscanf(f, "%lf", &s) != 1)
				s = 0;
			fclose(f);
		}
		if (s > 0) {
			struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	if (value_of("prevResult", prev, sizeof(prev)) < 0) {
		printf("{\"code\":100,\"msg\":\"cni_delay: no prevResult\"}\n");
		return 1;
	}
	puts(prev);
	return 0;
}
