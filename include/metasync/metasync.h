/* The metasync public API: include this one header. */
#ifndef METASYNC_H
#define METASYNC_H

#include "metasync/error.h"
#include "metasync/model.h"
#include "metasync/catalog.h"
#include "metasync/store.h"
#include "metasync/replicate.h"
#include "metasync/compare.h"
#include "metasync/bus.h"
#include "metasync/event.h"

#define METASYNC_VERSION "0.1.0"

#endif
