// Global.h — export macro and the SDK version every plugin is checked against.
//
// The SDK is versioned separately from the host: a plugin states the SDK version it was built
// for ("sdk": "1.0" in plugin.json) and the host accepts it when
// YIELDHOST_SDK_COMPAT_VERSION <= built-for <= YIELDHOST_SDK_VERSION (same major).
#pragma once

#include <QtCore/qglobal.h>

#if defined(YIELDHOST_SDK_BUILDING)
#  define YIELDHOST_SDK_EXPORT Q_DECL_EXPORT
#else
#  define YIELDHOST_SDK_EXPORT Q_DECL_IMPORT
#endif

#define YIELDHOST_SDK_VERSION_MAJOR 1
#define YIELDHOST_SDK_VERSION_MINOR 1
#define YIELDHOST_SDK_VERSION_STR "1.1"
// Oldest SDK minor (of the same major) whose plugins this SDK still loads.
#define YIELDHOST_SDK_COMPAT_MINOR 0
