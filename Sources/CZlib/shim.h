#ifndef SENDPLAN_CZLIB_SHIM_H
#define SENDPLAN_CZLIB_SHIM_H
#include <zlib.h>
#endif
