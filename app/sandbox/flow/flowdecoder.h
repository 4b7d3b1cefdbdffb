#pragma once

#include "model/expected.h"
#include "templatecache.h"

#include <QByteArray>
#include <QHostAddress>
#include <QString>

namespace ft::flow {

enum class Protocol { NetFlow5, NetFlow9, Ipfix };

// Stable keys as status.json's "by_protocol" uses them: netflow5, netflow9, ipfix.
QString toString(Protocol protocol);
// For people: "NetFlow v5", "NetFlow v9", "IPFIX".
QString displayName(Protocol protocol);

// What one accepted datagram held.
struct DecodeResult
{
    Protocol protocol = Protocol::NetFlow5;
    quint32 sequence = 0; // header sequence number
    quint32 sourceId = 0; // v9 source id, IPFIX observation domain, v5 engine type/id
    quint32 exportTime = 0; // header time, seconds since the epoch
    int flows = 0; // flow records: v5 records, data records of known templates
    int templates = 0; // templates defined (or refreshed)
    int optionsTemplates = 0; // options templates defined (or refreshed)
    int optionsRecords = 0; // data records of options templates: about the exporter, not flows
    int withdrawnTemplates = 0; // IPFIX template withdrawals
    int deferredSets = 0; // data sets whose template is not known (yet): not counted as flows
    int deferredBytes = 0; // their payload
};

// Decodes NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export datagrams far
// enough to count their flow records, keeping v9/IPFIX templates per exporter. Any
// malformed datagram is rejected with a sentence saying why, and changes nothing: a
// template set followed by a broken set is not learned.
class FlowDecoder
{
public:
    explicit FlowDecoder(int maxExporters = TemplateCache::kDefaultMaxExporters);

    // One UDP datagram as received from `source`.
    Expected<DecodeResult> decode(const QByteArray &datagram,
                                  const QHostAddress &source = QHostAddress());

    const TemplateCache &templateCache() const { return m_cache; }

private:
    Expected<DecodeResult> decodeV5(const QByteArray &datagram) const;
    Expected<DecodeResult> decodeWithTemplates(const QByteArray &datagram,
                                               const QHostAddress &source, int version);

    TemplateCache m_cache;
};

} // namespace ft::flow
