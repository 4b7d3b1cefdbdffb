#pragma once

// Ports for the servers a test starts itself, picked outside the kernel's ephemeral
// range: a port from bind(0) is one the kernel hands out again to any other socket (a
// client connection, another test's bind(0) under ctest -j2), so datagrams meant for an
// earlier holder can reach the test's server. The sandbox picks its nodes' ports the
// same way (app/sandbox/tool/installation.cpp).

#include <QFile>
#include <QHostAddress>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QUdpSocket>

#include <algorithm>
#include <utility>

namespace ft::test {

inline std::pair<int, int> ephemeralPortRange()
{
    QFile file(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range"));
    if (file.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> parts = file.readAll().simplified().split(' ');
        if (parts.size() == 2)
            return {parts[0].toInt(), parts[1].toInt()};
    }
    return {32768, 60999}; // Linux's default
}

// A free port below the ephemeral range (10000 up), or 0 after 500 tries.
template<typename Bindable>
quint16 portOutsideEphemeralRange(Bindable bindable)
{
    constexpr int kFirst = 10000;
    const int low = ephemeralPortRange().first;
    if (low - kFirst < 1000)
        return 0;
    for (int attempt = 0; attempt < 500; ++attempt) {
        const int port = kFirst + int(QRandomGenerator::global()->bounded(low - kFirst));
        if (bindable(quint16(port)))
            return quint16(port);
    }
    return 0;
}

inline quint16 freeServiceTcpPort()
{
    return portOutsideEphemeralRange([](quint16 port) {
        QTcpServer server;
        return server.listen(QHostAddress::LocalHost, port);
    });
}

inline quint16 freeServiceUdpPort()
{
    return portOutsideEphemeralRange([](quint16 port) {
        QUdpSocket socket;
        return socket.bind(QHostAddress::LocalHost, port, QAbstractSocket::DontShareAddress);
    });
}

} // namespace ft::test
