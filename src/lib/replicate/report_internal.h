/*
 * What the engine does to a report beyond the public API: ms_sync's guard
 * pass counts and fails entities, then starts the report over for the pass
 * that applies.
 */
#ifndef MS_REPLICATE_REPORT_INTERNAL_H
#define MS_REPLICATE_REPORT_INTERNAL_H

#include "metasync/replicate.h"

/* Remove every error from r (their strings freed); the array is kept for reuse. */
void ms_report_clear_errors(ms_report *r);

#endif
