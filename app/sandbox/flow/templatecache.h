#pragma once

#include <QHash>
#include <QHostAddress>
#include <QList>

namespace ft::flow {

// One (options) template as an exporter defined it. Only what counting records needs
// is kept: the length of each field, in order (kVariableLength for IPFIX variable ones).
struct FlowTemplate
{
    static constexpr quint16 kVariableLength = 0xFFFF;

    quint16 id = 0;
    bool options = false; // records of an options template describe the exporter, not flows
    int scopeFieldCount = 0; // options templates only
    QList<quint16> fieldLengths;

    int fixedLength() const; // sum of the fixed-length fields
    int variableFieldCount() const;
    bool hasVariableFields() const { return variableFieldCount() > 0; }
    // Shortest possible record: a variable-length field takes at least its length byte.
    int minimumRecordLength() const { return fixedLength() + variableFieldCount(); }
};

using TemplateSet = QHash<quint16, FlowTemplate>;

// Templates are only valid within one exporter's scope: NetFlow v9's source address and
// source id, IPFIX's observation domain. The version keeps v9 and IPFIX apart.
struct ExporterKey
{
    int version = 0;
    QHostAddress address;
    quint32 sourceId = 0;

    friend bool operator==(const ExporterKey &a, const ExporterKey &b)
    {
        return a.version == b.version && a.sourceId == b.sourceId && a.address == b.address;
    }
};

size_t qHash(const ExporterKey &key, size_t seed = 0);

// Templates per exporter, bounded so that a stream of spoofed exporters or template ids
// cannot grow memory without limit: the least recently used exporter is dropped first.
class TemplateCache
{
public:
    static constexpr int kDefaultMaxExporters = 256;
    static constexpr int kMaxTemplatesPerExporter = 4096;

    explicit TemplateCache(int maxExporters = kDefaultMaxExporters);

    // The exporter's templates (empty when unknown). Marks the exporter as used.
    TemplateSet templates(const ExporterKey &key);
    // Replaces the exporter's templates (evicting others to stay within bounds).
    void setTemplates(const ExporterKey &key, TemplateSet templates);

    bool contains(const ExporterKey &key) const { return m_exporters.contains(key); }
    int exporterCount() const { return int(m_exporters.size()); }
    int maxExporters() const { return m_maxExporters; }
    void clear() { m_exporters.clear(); }

private:
    struct Exporter
    {
        TemplateSet templates;
        quint64 lastUsed = 0;
    };

    void evictLeastRecentlyUsed();

    QHash<ExporterKey, Exporter> m_exporters;
    int m_maxExporters;
    quint64 m_clock = 0;
};

} // namespace ft::flow
