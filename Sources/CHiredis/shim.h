// Debian's libhiredis-dev (0.14): the synchronous API, used from threads that own their context.
#include <hiredis/hiredis.h>
