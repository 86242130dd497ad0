/* SPDX-License-Identifier: Apache-2.0 */
/* A shared object that does nothing: what preloading any library costs
 * (execbench's unit for the library's own start-up cost). */
int sp_bench_empty;
