// A core header that reaches up into http: the layer check must refuse it.
#pragma once
#include "http/Server.h"
