/*
 * Which stores a target reads snapshots from.  An event names a snapshot by
 * URL (s3://BUCKET/KEY or an absolute folder) and nothing else: no endpoint,
 * region or credentials, so that an event can never steer an agent to
 * another server.  The target's `stores:` entries say which URLs it accepts
 * and, for s3, where each bucket lives.
 */
#ifndef MS_AGENT_STORES_H
#define MS_AGENT_STORES_H

#include "agent/config.h"
#include "metasync/error.h"

/*
 * Decide whether target t of cfg accepts the snapshot at url, announced by
 * the source named source_name (the event is already checked: s3:// or an
 * absolute folder, no query, no '.' or '..' segments).
 *
 * With stores: url must lie in one of them (whole path components; the
 * longest match wins), and the URL to open is url with that entry's
 * endpoint, region and profile.  Without: a snapshot of the source this
 * file defines must lie in that source's store (opened with its store
 * URL's parameters); one of any other source must name a snapshot folder
 * (.../YYYY-MM-DD-HH-MM-SS), whose parent is taken as its store.  In a
 * folder, nothing between the store and the snapshot may be a symbolic link.
 *
 * 0 with *open_url (new), MS_EREFUSED naming the url and why, MS_ENOMEM.
 */
int ms_agent_accept_snapshot(const ms_agent_config *cfg, const ms_agent_target *t,
			     const char *source_name, const char *url, char **open_url,
			     ms_error *err);

#endif
