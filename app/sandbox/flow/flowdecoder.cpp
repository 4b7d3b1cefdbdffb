#include "flowdecoder.h"

#include <QCoreApplication>
#include <QtEndian>

#include <algorithm>

namespace ft::flow {

namespace {

QString tr(const char *text, const char *disambiguation = nullptr, int n = -1)
{
    return QCoreApplication::translate("ft::flow::FlowDecoder", text, disambiguation, n);
}

constexpr int kV5HeaderLength = 24;
constexpr int kV5RecordLength = 48;
constexpr int kV5MaxRecords = 30;
constexpr int kV9HeaderLength = 20;
constexpr int kIpfixHeaderLength = 16;
constexpr int kSetHeaderLength = 4;
constexpr quint16 kFirstDataSetId = 256;

// v9 and IPFIX number their special sets differently.
struct SetIds
{
    quint16 templates;
    quint16 optionsTemplates;
};
constexpr SetIds kV9Sets{0, 1};
constexpr SetIds kIpfixSets{2, 3};

// Big-endian reads within [pos, end) of a datagram. Callers check remaining() first:
// every length in a datagram is checked before it is trusted.
class Reader
{
public:
    Reader(const QByteArray &data, int begin, int end)
        : m_data(reinterpret_cast<const uchar *>(data.constData()))
        , m_pos(begin)
        , m_end(end)
    { }

    int position() const { return m_pos; }
    int remaining() const { return m_end - m_pos; }
    void skip(int bytes) { m_pos += bytes; }

    quint16 peekU16() const { return qFromBigEndian<quint16>(m_data + m_pos); }
    quint8 u8() { return m_data[m_pos++]; }
    quint16 u16()
    {
        const auto value = qFromBigEndian<quint16>(m_data + m_pos);
        m_pos += 2;
        return value;
    }
    quint32 u32()
    {
        const auto value = qFromBigEndian<quint32>(m_data + m_pos);
        m_pos += 4;
        return value;
    }

    // Padding at the end of a set is zero bytes. Template ids are never 0, so callers
    // only look further when the next id reads 0 (keeps the scan linear).
    bool atPadding() const { return peekU16() == 0 && restIsZero(); }
    bool restIsZero() const
    {
        return std::all_of(m_data + m_pos, m_data + m_end, [](uchar byte) { return byte == 0; });
    }

private:
    const uchar *m_data;
    int m_pos;
    int m_end;
};

// Reads `count` field specifiers into `tmpl`. IPFIX fields with the enterprise bit carry
// a 4-byte enterprise number after the length.
Result readFields(Reader &reader, int count, bool ipfix, FlowTemplate &tmpl)
{
    for (int i = 0; i < count; ++i) {
        if (reader.remaining() < 4)
            return makeError(tr("Template %1 is cut off after %2 of its %3 fields.")
                                     .arg(tmpl.id)
                                     .arg(i)
                                     .arg(count));
        const quint16 type = reader.u16();
        const quint16 length = reader.u16();
        if (ipfix && (type & 0x8000)) {
            if (reader.remaining() < 4)
                return makeError(tr("Template %1 is cut off in the enterprise number of field %2.")
                                         .arg(tmpl.id)
                                         .arg(i + 1));
            reader.skip(4);
        }
        if (!ipfix && length == FlowTemplate::kVariableLength)
            return makeError(
                    tr("Template %1 uses a variable-length field, which NetFlow v9 does not have.")
                            .arg(tmpl.id));
        tmpl.fieldLengths.append(length);
    }
    if (tmpl.minimumRecordLength() == 0)
        return makeError(tr("Template %1 describes records of zero length.").arg(tmpl.id));
    return {};
}

Result checkTemplateId(quint16 id)
{
    if (id < kFirstDataSetId)
        return makeError(tr("Template id %1 is reserved (template ids start at 256).").arg(id));
    return {};
}

// v9 template flowset (id 0) or IPFIX template set (id 2).
Result readTemplateSet(Reader reader, bool ipfix, quint16 setId, TemplateSet &templates,
                       DecodeResult &result)
{
    while (reader.remaining() >= 4 && !reader.atPadding()) {
        FlowTemplate tmpl;
        tmpl.id = reader.u16();
        const quint16 fieldCount = reader.u16();
        if (ipfix && fieldCount == 0) {
            // Withdrawal (RFC 7011 8.1): the set's own id withdraws all data templates.
            if (tmpl.id == setId) {
                templates.removeIf([](const auto &it) { return !it.value().options; });
            } else if (const Result ok = checkTemplateId(tmpl.id); !ok) {
                return ok;
            } else {
                templates.remove(tmpl.id);
            }
            ++result.withdrawnTemplates;
            continue;
        }
        if (const Result ok = checkTemplateId(tmpl.id); !ok)
            return ok;
        if (fieldCount == 0)
            return makeError(tr("Template %1 has no fields.").arg(tmpl.id));
        if (const Result ok = readFields(reader, fieldCount, ipfix, tmpl); !ok)
            return ok;
        templates.insert(tmpl.id, tmpl);
        ++result.templates;
    }
    return {};
}

// v9 options template flowset (id 1): scope and option lengths are given in bytes.
Result readV9OptionsTemplateSet(Reader reader, TemplateSet &templates, DecodeResult &result)
{
    while (reader.remaining() >= 6 && !reader.atPadding()) {
        FlowTemplate tmpl;
        tmpl.id = reader.u16();
        tmpl.options = true;
        const quint16 scopeBytes = reader.u16();
        const quint16 optionBytes = reader.u16();
        if (const Result ok = checkTemplateId(tmpl.id); !ok)
            return ok;
        if (scopeBytes % 4 != 0 || optionBytes % 4 != 0)
            return makeError(tr("Options template %1 has scope or option lengths that are not "
                                "whole field specifiers.")
                                     .arg(tmpl.id));
        if (scopeBytes + optionBytes > reader.remaining())
            return makeError(tr("Options template %1 is longer than its flowset.").arg(tmpl.id));
        tmpl.scopeFieldCount = scopeBytes / 4;
        if (const Result ok = readFields(reader, (scopeBytes + optionBytes) / 4, false, tmpl); !ok)
            return ok;
        templates.insert(tmpl.id, tmpl);
        ++result.optionsTemplates;
    }
    return {};
}

// IPFIX options template set (id 3): field count, then scope field count.
Result readIpfixOptionsTemplateSet(Reader reader, quint16 setId, TemplateSet &templates,
                                   DecodeResult &result)
{
    while (reader.remaining() >= 4 && !reader.atPadding()) {
        FlowTemplate tmpl;
        tmpl.id = reader.u16();
        tmpl.options = true;
        const quint16 fieldCount = reader.u16();
        if (fieldCount == 0) {
            if (tmpl.id == setId) {
                templates.removeIf([](const auto &it) { return it.value().options; });
            } else if (const Result ok = checkTemplateId(tmpl.id); !ok) {
                return ok;
            } else {
                templates.remove(tmpl.id);
            }
            ++result.withdrawnTemplates;
            continue;
        }
        if (const Result ok = checkTemplateId(tmpl.id); !ok)
            return ok;
        if (reader.remaining() < 2)
            return makeError(tr("Options template %1 is cut off before its scope field count.")
                                     .arg(tmpl.id));
        tmpl.scopeFieldCount = reader.u16();
        if (tmpl.scopeFieldCount == 0 || tmpl.scopeFieldCount > fieldCount)
            return makeError(tr("Options template %1 has %2 scope fields out of %3 fields.")
                                     .arg(tmpl.id)
                                     .arg(tmpl.scopeFieldCount)
                                     .arg(fieldCount));
        if (const Result ok = readFields(reader, fieldCount, true, tmpl); !ok)
            return ok;
        templates.insert(tmpl.id, tmpl);
        ++result.optionsTemplates;
    }
    return {};
}

// Counts the records of a data set. Whatever is left that cannot hold a whole record
// is padding.
Expected<int> countRecords(Reader reader, const FlowTemplate &tmpl)
{
    if (!tmpl.hasVariableFields())
        return reader.remaining() / tmpl.fixedLength();

    const int minimum = tmpl.minimumRecordLength();
    int records = 0;
    while (reader.remaining() >= minimum) {
        for (const quint16 length : tmpl.fieldLengths) {
            int bytes = length;
            if (length == FlowTemplate::kVariableLength) {
                // RFC 7011 7: one length byte, or 255 and a two-byte length.
                if (reader.remaining() < 1)
                    bytes = 1; // forces the overrun error below
                else if ((bytes = reader.u8()) == 255)
                    bytes = reader.remaining() >= 2 ? reader.u16() : reader.remaining() + 1;
            }
            if (bytes > reader.remaining())
                return makeError(tr("Record %1 of data set %2 runs past the end of its set.")
                                         .arg(records + 1)
                                         .arg(tmpl.id));
            reader.skip(bytes);
        }
        ++records;
    }
    return records;
}

} // namespace

QString toString(Protocol protocol)
{
    switch (protocol) {
    case Protocol::NetFlow5:
        return QStringLiteral("netflow5");
    case Protocol::NetFlow9:
        return QStringLiteral("netflow9");
    case Protocol::Ipfix:
        return QStringLiteral("ipfix");
    }
    return {};
}

QString displayName(Protocol protocol)
{
    switch (protocol) {
    case Protocol::NetFlow5:
        return QStringLiteral("NetFlow v5");
    case Protocol::NetFlow9:
        return QStringLiteral("NetFlow v9");
    case Protocol::Ipfix:
        return QStringLiteral("IPFIX");
    }
    return {};
}

FlowDecoder::FlowDecoder(int maxExporters)
    : m_cache(maxExporters)
{ }

Expected<DecodeResult> FlowDecoder::decode(const QByteArray &datagram, const QHostAddress &source)
{
    if (datagram.size() < 2)
        return makeError(tr("The datagram is too short (%n byte(s)) to hold a version number.",
                            nullptr, int(datagram.size())));
    const quint16 version = qFromBigEndian<quint16>(datagram.constData());
    switch (version) {
    case 5:
        return decodeV5(datagram);
    case 9:
    case 10:
        return decodeWithTemplates(datagram, source, version);
    default:
        return makeError(tr("Version %1 is not NetFlow v5, NetFlow v9 or IPFIX.").arg(version));
    }
}

Expected<DecodeResult> FlowDecoder::decodeV5(const QByteArray &datagram) const
{
    if (datagram.size() < kV5HeaderLength)
        return makeError(tr("The NetFlow v5 header is cut off (%1 of %2 bytes).")
                                 .arg(datagram.size())
                                 .arg(kV5HeaderLength));
    Reader reader(datagram, 2, int(datagram.size()));
    const int count = reader.u16();
    if (count < 1 || count > kV5MaxRecords)
        return makeError(tr("A NetFlow v5 datagram holds 1 to %1 records, not %2.")
                                 .arg(kV5MaxRecords)
                                 .arg(count));
    const int expected = kV5HeaderLength + kV5RecordLength * count;
    if (datagram.size() != expected)
        return makeError(tr("A NetFlow v5 datagram with %1 records is %2 bytes long, not %3.")
                                 .arg(count)
                                 .arg(expected)
                                 .arg(datagram.size()));

    DecodeResult result;
    result.protocol = Protocol::NetFlow5;
    reader.skip(4); // sysUptime
    result.exportTime = reader.u32();
    reader.skip(4); // nanoseconds
    result.sequence = reader.u32();
    const quint8 engineType = reader.u8();
    const quint8 engineId = reader.u8();
    result.sourceId = quint32(engineType) << 8 | engineId;
    result.flows = count;
    return result;
}

Expected<DecodeResult> FlowDecoder::decodeWithTemplates(const QByteArray &datagram,
                                                        const QHostAddress &source, int version)
{
    const bool ipfix = version == 10;
    const int size = int(datagram.size());
    const int headerLength = ipfix ? kIpfixHeaderLength : kV9HeaderLength;
    const Protocol protocol = ipfix ? Protocol::Ipfix : Protocol::NetFlow9;
    if (size < headerLength)
        return makeError(tr("The %1 header is cut off (%2 of %3 bytes).")
                                 .arg(displayName(protocol))
                                 .arg(size)
                                 .arg(headerLength));

    DecodeResult result;
    result.protocol = protocol;
    Reader header(datagram, 2, headerLength);
    if (ipfix) {
        const int length = header.u16();
        if (length != size)
            return makeError(
                    tr("The IPFIX message says it is %1 bytes long, but the datagram has %2.")
                            .arg(length)
                            .arg(size));
        result.exportTime = header.u32();
        result.sequence = header.u32();
        result.sourceId = header.u32();
    } else {
        header.skip(2 + 4); // record count (often wrong in the wild), sysUptime
        result.exportTime = header.u32();
        result.sequence = header.u32();
        result.sourceId = header.u32();
    }

    // Work on a copy of the exporter's templates and keep it only if the whole datagram
    // is sound (implicit sharing makes the copy free unless a template changes).
    const ExporterKey key{version, source, result.sourceId};
    TemplateSet templates = m_cache.templates(key);
    bool templatesChanged = false;
    const SetIds ids = ipfix ? kIpfixSets : kV9Sets;

    Reader sets(datagram, headerLength, size);
    while (sets.remaining() > 0) {
        if (sets.remaining() < kSetHeaderLength)
            return makeError(tr("The datagram ends with %n stray byte(s) after its last set.",
                                nullptr, sets.remaining()));
        const int setStart = sets.position();
        const quint16 setId = sets.u16();
        const int setLength = sets.u16();
        if (setLength < kSetHeaderLength)
            return makeError(tr("Set %1 at byte %2 has length %3, shorter than its own header.")
                                     .arg(setId)
                                     .arg(setStart)
                                     .arg(setLength));
        if (setStart + setLength > size)
            return makeError(tr("Set %1 at byte %2 claims %3 bytes, past the end of the datagram.")
                                     .arg(setId)
                                     .arg(setStart)
                                     .arg(setLength));
        const Reader body(datagram, setStart + kSetHeaderLength, setStart + setLength);
        sets.skip(setLength - kSetHeaderLength);

        Result ok;
        if (setId == ids.templates) {
            ok = readTemplateSet(body, ipfix, setId, templates, result);
            templatesChanged = true;
        } else if (setId == ids.optionsTemplates) {
            ok = ipfix ? readIpfixOptionsTemplateSet(body, setId, templates, result)
                       : readV9OptionsTemplateSet(body, templates, result);
            templatesChanged = true;
        } else if (setId >= kFirstDataSetId) {
            const auto tmpl = templates.constFind(setId);
            if (tmpl == templates.cend()) {
                ++result.deferredSets;
                result.deferredBytes += body.remaining();
                continue;
            }
            const auto records = countRecords(body, *tmpl);
            if (!records)
                return makeError(records.error());
            (tmpl->options ? result.optionsRecords : result.flows) += *records;
        }
        // Other ids are reserved: skipped, as both RFCs ask of collectors.
        if (!ok)
            return makeError(tr("%1 set %2 at byte %3: %4")
                                     .arg(displayName(protocol))
                                     .arg(setId)
                                     .arg(setStart)
                                     .arg(ok.error()));
    }

    if (templatesChanged)
        m_cache.setTemplates(key, std::move(templates));
    return result;
}

} // namespace ft::flow
