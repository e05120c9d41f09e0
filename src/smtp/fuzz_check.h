// Internal to the smtp fuzz targets (the macro now lives in base/).
#pragma once

#include "base/fuzz_check.h"
