/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.h - the lock-free, many-producer record ring shared by the library
 * (writer) and the CLI (reader).  The layout is defined in startpath.h.
 */
#ifndef SP_RING_H
#define SP_RING_H

#include <stddef.h>
#include <stdint.h>
#include "startpath.h"

struct sp_ring {
	struct sp_ring_hdr *hdr;
	struct sp_record *recs;
	uint32_t mask;
	size_t map_size;
};

struct sp_ring_stats {
	uint64_t written;     /* tickets taken (head) */
	uint64_t read;        /* records delivered */
	uint64_t overwritten; /* lost because the ring wrapped */
	uint64_t unfinished;  /* slot in the window not (or no longer) published */
};

/* Bytes a ring of `capacity` records needs (header page included). */
size_t sp_ring_bytes(uint32_t capacity);

/* Round a requested record count to a valid capacity (power of two, clamped). */
uint32_t sp_ring_capacity(uint64_t want);

/*
 * Initialise a ring in `mem` (sp_ring_bytes(capacity) zeroed bytes, e.g. a
 * fresh mapping).  Fills the fixed header fields; the caller sets identity
 * fields afterwards.  Async-signal-safe.
 */
void sp_ring_init(struct sp_ring *r, void *mem, uint32_t capacity);

/*
 * Take the next slot.  Returns the record to fill and stores its ticket.
 * Lock-free, async-signal-safe, safe from any thread or process sharing the
 * mapping.  The record's seq is 0 until sp_ring_commit.
 *
 * A slot at or beyond hdr->reserved first has its pages reserved (sp_ring_grow).
 * If that fails (the filesystem is full), the record goes to a scratch slot
 * that nobody reads, the header's `dropped` counts it, and the ticket stays
 * unpublished: readers count it lost.  The caller never sees a difference.
 */
struct sp_record *sp_ring_reserve(struct sp_ring *r, uint64_t *ticket);

/*
 * Reserve the pages of slots [hdr->reserved, want), and at least the next
 * min(reserved, SP_RING_GROW_MAX) (rounded up to whole pages, at most the
 * capacity), with MADV_POPULATE_WRITE, which reports a full
 * filesystem as an error instead of the SIGBUS a store into an unbacked
 * page of a shared mapping would raise.  0, or a negative errno (-EINVAL:
 * the kernel is older than 5.14).  Async-signal-safe, lock-free: racing
 * callers reserve the same pages twice, which is harmless.
 */
int sp_ring_grow(struct sp_ring *r, uint32_t want);

/* The first slots a lazily reserved ring reserves at creation (its maker
 * sets hdr->reserved; sp_ring_init leaves 0: a fully reserved ring): one
 * page of records, which most processes of a start never fill (a runc or
 * a shim writes 3 to 18 records), each page ~5 us to reserve on tmpfs. */
#define SP_RING_FIRST_RECORDS (4096 / SP_REC_SIZE)
/* At most this many more at a time (256 KiB: ~60 us of page allocation). */
#define SP_RING_GROW_MAX 512

/* Publish a record filled after sp_ring_reserve.  Async-signal-safe. */
void sp_ring_commit(struct sp_record *rec, uint64_t ticket);

/*
 * Before an exit or exec (which kill the process's other threads): wait, up
 * to `budget` pauses of SP_RING_SETTLE_NS, for the last SP_RING_QUIESCE_SLOTS
 * tickets to be published, so that a record another thread is writing (or
 * a page it is reserving) is not left torn.  Nothing to wait for: 16 loads.
 * Async-signal-safe.
 */
#define SP_RING_QUIESCE_SLOTS 16
void sp_ring_quiesce(struct sp_ring *r, unsigned budget);

/*
 * Attach to an existing ring in memory of `size` bytes, validating the
 * header.  Returns 0 or -1 with *why set to a static message.
 */
int sp_ring_attach(struct sp_ring *r, void *mem, size_t size, const char **why);

/* Map a ring file read-only (for readers).  0, or -1 with *why set. */
int sp_ring_open_file(const char *path, struct sp_ring *r, const char **why);
void sp_ring_close_file(struct sp_ring *r);

typedef int (*sp_ring_visit_fn)(const struct sp_record *rec, void *ctx);

/*
 * Deliver every published record in the window [head - capacity, head) in
 * ticket order, each a consistent copy (seqlock check), to `fn`; stop early
 * if fn returns non-zero.  Losses are counted in *st.  Safe while writers run.
 */
int sp_ring_read(const struct sp_ring *r, sp_ring_visit_fn fn, void *ctx,
		 struct sp_ring_stats *st);

/*
 * The same, but a slot not yet published is waited for, up to `budget`
 * pauses of SP_RING_SETTLE_NS over the whole read: a live process between
 * a ticket and its commit (a few hundred ns, or a page reservation's tens of
 * us) is read, not counted lost.  A writer killed mid-record costs the budget
 * once.  The CLI's reads use SP_RING_SETTLE_BUDGET (about 5 ms).
 */
#define SP_RING_SETTLE_NS 100000L
#define SP_RING_SETTLE_BUDGET 50u
int sp_ring_read_wait(const struct sp_ring *r, sp_ring_visit_fn fn, void *ctx,
		      struct sp_ring_stats *st, unsigned budget);

#endif
