#pragma once

#include "model/expected.h"

#include <QHostAddress>
#include <QString>

namespace ft::sandbox {

// One --target NAME=HOST:PORT@RATE: where to send, and how many flow records a second.
struct ExportTarget
{
    QString name;
    QHostAddress host;
    quint16 port = 0;
    double rate = 0; // flow records per second

    // HOST is an IP address (IPv6 in brackets: [::1]:2055) or "localhost".
    static Expected<ExportTarget> parse(const QString &text);
};

} // namespace ft::sandbox
