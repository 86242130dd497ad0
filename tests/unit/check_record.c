/* SPDX-License-Identifier: Apache-2.0 */
/* check_record.c - record encoding: string packing, truncation, bounds,
 * the call table, overlay option parsing. */
#include <string.h>
#include "check_main.h"
#include "record.h"

START_TEST(test_pack_short)
{
	struct sp_record r;
	const char *s[4] = { "overlay", "/run/x/rootfs", NULL, "index=off" };

	memset(&r, 0xff, sizeof(r));
	r.flags = 0;
	sp_rec_put_strs(&r, s, 4);
	ck_assert_uint_eq(r.nstr, 4);
	ck_assert_str_eq(sp_rec_str(&r, 0), "overlay");
	ck_assert_str_eq(sp_rec_str(&r, 1), "/run/x/rootfs");
	ck_assert_str_eq(sp_rec_str(&r, 2), "");
	ck_assert_str_eq(sp_rec_str(&r, 3), "index=off");
	ck_assert_ptr_null(sp_rec_str(&r, 4));
	ck_assert_int_eq(r.flags & SP_RF_TRUNC, 0);
}
END_TEST

START_TEST(test_pack_truncates_longest)
{
	struct sp_record r;
	char big[1000];
	const char *s[3] = { "short", big, "tail" };

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memset(&r, 0, sizeof(r));
	sp_rec_put_strs(&r, s, 3);
	ck_assert_str_eq(sp_rec_str(&r, 0), "short");
	ck_assert_str_eq(sp_rec_str(&r, 2), "tail");
	/* The long one gets all the rest: 184 - 3 NULs - 5 - 4. */
	ck_assert_uint_eq(strlen(sp_rec_str(&r, 1)), SP_REC_DATA - 3 - 5 - 4);
	ck_assert(r.flags & SP_RF_TRUNC);
}
END_TEST

START_TEST(test_pack_fair_share)
{
	struct sp_record r;
	char a[300], b[300];
	const char *s[2] = { a, b };

	memset(a, 'a', 299);
	a[299] = 0;
	memset(b, 'b', 299);
	b[299] = 0;
	memset(&r, 0, sizeof(r));
	sp_rec_put_strs(&r, s, 2);
	ck_assert_uint_eq(strlen(sp_rec_str(&r, 0)), (SP_REC_DATA - 2) / 2);
	ck_assert_uint_eq(strlen(sp_rec_str(&r, 1)), (SP_REC_DATA - 2) / 2);
}
END_TEST

START_TEST(test_str_bounds_untrusted)
{
	struct sp_record r;

	memset(&r, 'z', sizeof(r)); /* no NUL anywhere in data */
	r.nstr = 3;
	ck_assert_ptr_null(sp_rec_str(&r, 0));
	ck_assert_ptr_null(sp_rec_str(&r, 2));
	r.data[SP_REC_DATA - 1] = 0;
	ck_assert_ptr_nonnull(sp_rec_str(&r, 0));
	ck_assert_ptr_null(sp_rec_str(&r, 1));
}
END_TEST

START_TEST(test_call_table)
{
	for (unsigned c = 1; c < SP_C_COUNT; c++) {
		const struct sp_call_info *ci = sp_call_info(c);

		ck_assert_ptr_nonnull(ci->name);
		ck_assert_uint_eq(sp_call_by_name(ci->name), c);
	}
	ck_assert_uint_eq(sp_call_by_name("nope"), SP_C_NONE);
	ck_assert_str_eq(sp_call_info(9999)->name, "unknown");
	ck_assert(sp_call_info(SP_C_PIVOT_ROOT)->cls & SP_CLS_MOUNT);
	ck_assert(sp_call_info(SP_C_EXECVEAT)->cls & SP_CLS_EXEC);
}
END_TEST

START_TEST(test_overlay_lowerdirs)
{
	ck_assert_uint_eq(sp_overlay_lowerdirs(NULL), 0);
	ck_assert_uint_eq(sp_overlay_lowerdirs("index=off"), 0);
	ck_assert_uint_eq(sp_overlay_lowerdirs("index=off,workdir=/w,upperdir=/u,lowerdir=/a"), 1);
	ck_assert_uint_eq(sp_overlay_lowerdirs("lowerdir=/a:/b:/c,upperdir=/u"), 3);
	ck_assert_uint_eq(sp_overlay_lowerdirs("xlowerdir=/a:/b"), 0);
}
END_TEST

START_TEST(test_layer_content_path)
{
	/* A layer's extraction: not recorded. */
	ck_assert(sp_layer_content_path("/r/tmpmounts/containerd-mount1/etc"));
	ck_assert(sp_layer_content_path("/r/tmpmounts/containerd-mount1/a/b"));
	ck_assert(sp_layer_content_path("/r/io.containerd.snapshotter.v1.overlayfs/snapshots/3/fs/data"));
	/* The steps of a start and of a pull: recorded. */
	ck_assert(!sp_layer_content_path(NULL));
	ck_assert(!sp_layer_content_path("/r/tmpmounts"));
	ck_assert(!sp_layer_content_path("/r/tmpmounts/containerd-mount1"));
	ck_assert(!sp_layer_content_path("/r/tmpmounts/containerd-mount1/"));
	ck_assert(!sp_layer_content_path("/r/io.containerd.snapshotter.v1.overlayfs/snapshots/new-12"));
	ck_assert(!sp_layer_content_path("/r/io.containerd.snapshotter.v1.overlayfs/snapshots/new-12/fs"));
	ck_assert(!sp_layer_content_path("/r/io.containerd.snapshotter.v1.overlayfs/snapshots/3/work"));
	ck_assert(!sp_layer_content_path("/r/io.containerd.content.v1.content/ingest/abc"));
	ck_assert(!sp_layer_content_path("/s/io.containerd.runtime.v2.task/default/c1/rootfs"));
}
END_TEST

START_TEST(test_pull_calls)
{
	ck_assert_uint_eq(sp_call_by_name("openat"), SP_C_OPENAT);
	ck_assert_uint_eq(sp_call_by_name("connect"), SP_C_CONNECT);
	ck_assert_str_eq(sp_call_info(SP_C_RENAMEAT)->ret, "size");
	ck_assert_str_eq(sp_call_info(SP_C_MOUNT)->strs[5], "lowerdir0_tail");
	/* Call numbers in existing rings keep their meaning. */
	ck_assert_uint_eq(SP_C_EXIT, 27);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("record");

	tcase_add_test(tc, test_pack_short);
	tcase_add_test(tc, test_pack_truncates_longest);
	tcase_add_test(tc, test_pack_fair_share);
	tcase_add_test(tc, test_str_bounds_untrusted);
	tcase_add_test(tc, test_call_table);
	tcase_add_test(tc, test_overlay_lowerdirs);
	tcase_add_test(tc, test_layer_content_path);
	tcase_add_test(tc, test_pull_calls);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
