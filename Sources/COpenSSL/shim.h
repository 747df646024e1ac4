#include <openssl/ssl.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Composite macros that do not import into Swift. */
static inline int palisade_evp_pkey_public_key_selection(void) { return EVP_PKEY_PUBLIC_KEY; }

/* OSSL_PARAM_BLD keeps the parameter-name pointers until OSSL_PARAM_BLD_to_param, so the
   names must outlive the push call: these return the static literals. */
static inline const char *palisade_param_rsa_n(void) { return OSSL_PKEY_PARAM_RSA_N; }
static inline const char *palisade_param_rsa_e(void) { return OSSL_PKEY_PARAM_RSA_E; }
static inline const char *palisade_param_group_name(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *palisade_param_public_key(void) { return OSSL_PKEY_PARAM_PUB_KEY; }

/* Server-side SSL_OP_* bits (SSL_OP_BIT does not import into Swift): no compression (CRIME), no
   renegotiation, the server's cipher order. */
static inline uint64_t palisade_ssl_server_options(void) {
    return SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
}
