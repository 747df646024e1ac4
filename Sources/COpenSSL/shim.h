#include <openssl/ssl.h>
#include <openssl/evp.h>
#include <openssl/err.h>
