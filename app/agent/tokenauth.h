#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace ft::agent {

// What the agent keeps of its bearer token: a random per-install salt and
// SHA-256(salt + token), both hex. The token itself is never stored.
struct TokenHash
{
    QByteArray salt; // hex
    QByteArray hash; // hex

    bool isNull() const { return salt.isEmpty() || hash.isEmpty(); }

    // A fresh salt and the hash of token under it.
    static TokenHash make(QByteArrayView token);
    // True when token hashes to this hash; the comparison takes the same time
    // wherever the first difference is, so timing does not leak the hash.
    bool matches(QByteArrayView token) const;
};

// A new random token (256 bits, URL-safe base64 without padding).
QByteArray generateToken();

// Extracts TOKEN from an "Authorization: Bearer TOKEN" header value; empty if absent.
QByteArray bearerToken(QByteArrayView authorizationHeader);

} // namespace ft::agent
