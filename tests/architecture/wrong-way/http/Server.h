// A layer above core.
#pragma once
#include "core/Clock.h"
