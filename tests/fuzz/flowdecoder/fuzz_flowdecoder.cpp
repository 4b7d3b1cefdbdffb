// libFuzzer target: the sandbox server's flow decoder (NetFlow v5, v9, IPFIX) on UDP
// datagrams from anyone on the network.
//
// Input: a sequence of datagrams, each "[1 byte exporter][2 bytes length, big-endian]
// [bytes]", decoded in order by one decoder, so templates of an earlier datagram are
// used (and broken) by later ones.

#include "flowdecoder.h"

#include <QHostAddress>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ft::flow::FlowDecoder decoder(4); // a small cache, so eviction is exercised too
    size_t at = 0;
    while (at + 3 <= size) {
        const QHostAddress source(quint32(0x7f000001u + data[at] % 6));
        const size_t length = (size_t(data[at + 1]) << 8) | data[at + 2];
        at += 3;
        const size_t take = length < size - at ? length : size - at;
        const QByteArray datagram(reinterpret_cast<const char *>(data + at), qsizetype(take));
        at += take;
        (void)decoder.decode(datagram, source);
    }
    return 0;
}
