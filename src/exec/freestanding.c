/* SPDX-License-Identifier: Apache-2.0 */
/*
 * freestanding.c - the C library functions the recorder and the code it
 * shares (record.c, env.c, sysdecode.c, trust.c) call, for a recorder that
 * has no libc: it runs inside a static program whose own libc it must not
 * touch.  Plain loops: built -ffreestanding -fno-builtin, so the compiler
 * turns none of them back into calls to themselves.
 */
#include <stddef.h>

#define H __attribute__((visibility("hidden")))

H void *memcpy(void *d, const void *s, size_t n)
{
	char *dp = d;
	const char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

H void *memset(void *d, int c, size_t n)
{
	char *dp = d;

	while (n--)
		*dp++ = (char)c;
	return d;
}

H int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

H size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

H size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

H int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

H int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

H char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

H size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;

	for (; s[n]; n++)
		for (const char *r = reject; *r; r++)
			if (s[n] == *r)
				return n;
	return n;
}

H char *strstr(const char *h, const char *n)
{
	size_t l = strlen(n);

	for (; *h; h++)
		if (strncmp(h, n, l) == 0)
			return (char *)h;
	return l ? NULL : (char *)h;
}
