// zlib (Debian zlib1g-dev): the gzip layer of .json.gz / .jsonl.gz data files, decompressed in process.
#include <zlib.h>
