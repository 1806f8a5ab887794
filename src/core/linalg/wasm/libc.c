// memset and memcpy: clang may turn zeroing or copying loops into calls to them, and the
// module has no libc.
#include "common.h"

void *memset(void *dst, int value, unsigned long n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)value;
  return dst;
}
void *memcpy(void *dst, const void *src, unsigned long n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}
