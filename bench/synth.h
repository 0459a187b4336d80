/*
 * synth.h: the synthetic catalog of the benchmarks, shared by gen_export
 * (files in the AWS Glue migration utility's layout, for import) and
 * glue_load (the same partitions through the Glue API of `metasync
 * serve`), so that both paths carry the same data: the same columns,
 * formats and serde, the same partition values and locations, and the same
 * numRows / totalSize.
 *
 * The random numbers are one xorshift64* sequence from SYNTH_SEED.
 * gen_export draws SYNTH_DRAWS_BEFORE numbers (the job uuids of its three
 * folders) before its first partition and one per partition after that, in
 * table order: with one table, partition i of `gen_export OUT N 1 1` is made
 * from draw SYNTH_DRAWS_BEFORE + i + 1.
 *
 * Header-only (static inline), C11, no dependency.
 */
#ifndef BENCH_SYNTH_H
#define BENCH_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#define SYNTH_NCOLS 10
#define SYNTH_SEED 0x9e3779b97f4a7c15ull
#define SYNTH_DRAWS_BEFORE 6
#define SYNTH_INPUT_FORMAT "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
#define SYNTH_OUTPUT_FORMAT "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
#define SYNTH_SERDE "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
#define SYNTH_DT_MAX 48 /* room for a dt value */

static const char *const synth_col_names[SYNTH_NCOLS] = {
	"id",     "ts",       "user_id", "country", "device",
	"amount", "currency", "status",  "url",     "payload",
};
static const char *const synth_col_types[SYNTH_NCOLS] = {
	"bigint", "timestamp", "bigint", "string", "string",
	"double", "string",    "int",    "string", "string",
};

/* The next number of the sequence in *state (xorshift64*). */
static inline uint64_t synth_rng(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

/*
 * The values of a table's partition number i: dt (written to dt, at least
 * SYNTH_DT_MAX bytes) = 2024-01-01 + i / 24 days, and the hour, i % 24.
 */
static inline unsigned synth_values(unsigned long i, char *dt)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned long dd = i / 24;
	int y = 2024, m = 0;

	for (;;) {
		int ml = mdays[m];

		if (m == 1 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
			ml = 28;
		if (dd < (unsigned long)ml)
			break;
		dd -= (unsigned long)ml;
		if (++m == 12) {
			m = 0;
			y++;
		}
	}
	snprintf(dt, SYNTH_DT_MAX, "%04d-%02d-%02lu", y, m + 1, dd + 1);
	return (unsigned)(i % 24);
}

/* A partition's numRows and totalSize, from its draw r. */
static inline void synth_stats(uint64_t r, unsigned long *rows, unsigned long *size)
{
	*rows = 1000 + (unsigned long)(r % 9000000);
	*size = *rows * (180 + (unsigned long)((r >> 32) % 120));
}

#endif
