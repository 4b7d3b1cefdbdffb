#include "packages/vendorpackage.h"

// The version resource of a Windows .exe (ExeReader in vendorpackage.h): a small,
// bounds-checked PE reader, because no Debian library reads it.

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QHash>

namespace ft {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("ft::VendorPackage", text); }

QString fileLabel(const QString &path) { return QFileInfo(path).fileName(); }

} // namespace

// ---------------------------------------------------------------- PE version resource

namespace {

// Reads little-endian fields of a file at offsets, refusing anything out of range.
class PeFile
{
public:
    explicit PeFile(const QString &path) : m_file(path) {}
    bool open() { return m_file.open(QIODevice::ReadOnly); }
    qint64 size() const { return m_file.size(); }

    std::optional<QByteArray> bytes(qint64 offset, qint64 count)
    {
        if (offset < 0 || count < 0 || offset > size() || count > size() - offset)
            return std::nullopt;
        if (!m_file.seek(offset))
            return std::nullopt;
        QByteArray data = m_file.read(count);
        if (data.size() != count)
            return std::nullopt;
        return data;
    }
    std::optional<quint32> u32(qint64 offset)
    {
        const auto data = bytes(offset, 4);
        if (!data)
            return std::nullopt;
        const auto *p = reinterpret_cast<const uchar *>(data->constData());
        return quint32(p[0]) | quint32(p[1]) << 8 | quint32(p[2]) << 16 | quint32(p[3]) << 24;
    }
    std::optional<quint16> u16(qint64 offset)
    {
        const auto data = bytes(offset, 2);
        if (!data)
            return std::nullopt;
        const auto *p = reinterpret_cast<const uchar *>(data->constData());
        return quint16(p[0] | p[1] << 8);
    }

private:
    QFile m_file;
};

quint16 word(const QByteArray &data, qsizetype at)
{
    const auto *p = reinterpret_cast<const uchar *>(data.constData()) + at;
    return quint16(p[0] | p[1] << 8);
}

// A UTF-16 string starting at `at`, ending at a NUL or at `end`; `next` is past the NUL.
QString utf16At(const QByteArray &data, qsizetype at, qsizetype end, qsizetype *next)
{
    QString text;
    qsizetype i = at;
    while (i + 1 < end) {
        const quint16 c = word(data, i);
        i += 2;
        if (c == 0)
            break;
        text.append(QChar(c));
    }
    *next = i;
    return text;
}

qsizetype align4(qsizetype value) { return (value + 3) & ~qsizetype(3); }

// Walks VS_VERSIONINFO's blocks: {wLength, wValueLength, wType, szKey, pad, value, pad,
// children}. Collects the String blocks' key → value.
void walkVersionBlocks(const QByteArray &data, qsizetype start, qsizetype end, int depth,
                       QHash<QString, QString> *strings)
{
    qsizetype at = start;
    while (depth <= 3 && at + 6 <= end) {
        const qsizetype length = word(data, at);
        const qsizetype valueLength = word(data, at + 2);
        const quint16 type = word(data, at + 4);
        if (length < 6 || at + length > end)
            return;
        const qsizetype blockEnd = at + length;
        qsizetype afterKey = 0;
        const QString key = utf16At(data, at + 6, blockEnd, &afterKey);
        const qsizetype valueStart = align4(afterKey);
        const qsizetype valueBytes = type == 1 ? valueLength * 2 : valueLength;
        // VS_VERSIONINFO (0) → StringFileInfo (1) → StringTable (2) → String (3).
        if (depth == 3 && type == 1 && valueStart + valueBytes <= blockEnd && valueBytes > 0) {
            qsizetype ignored = 0;
            strings->insert(key, utf16At(data, valueStart, valueStart + valueBytes, &ignored).trimmed());
        } else if (depth < 3) {
            const qsizetype children = align4(qMin(blockEnd, valueStart + valueBytes));
            // Only StringFileInfo's tables hold strings; VarFileInfo is skipped.
            if (depth != 1 || key == QLatin1String("StringFileInfo"))
                walkVersionBlocks(data, children, blockEnd, depth + 1, strings);
        }
        at = align4(blockEnd);
    }
}

} // namespace

Expected<VendorMetadata> ExeReader::read(const QString &path)
{
    const auto notPe = [&] { return makeError(tr("%1 is not a Windows program (no valid PE header).").arg(fileLabel(path))); };
    PeFile pe(path);
    if (!pe.open())
        return makeError(tr("%1 cannot be read.").arg(path));
    const auto mz = pe.bytes(0, 2);
    if (!mz || *mz != "MZ")
        return notPe();
    const auto peOffset = pe.u32(0x3c);
    if (!peOffset)
        return notPe();
    const auto signature = pe.bytes(*peOffset, 4);
    if (!signature || *signature != QByteArray("PE\0\0", 4))
        return notPe();
    const qint64 coff = qint64(*peOffset) + 4;
    const auto sectionCount = pe.u16(coff + 2);
    const auto optionalSize = pe.u16(coff + 16);
    const qint64 optional = coff + 20;
    const auto magic = pe.u16(optional);
    if (!sectionCount || !optionalSize || !magic || (*magic != 0x10b && *magic != 0x20b))
        return notPe();
    const qint64 directories = optional + (*magic == 0x20b ? 112 : 96);
    const auto directoryCount = pe.u32(directories - 4);
    VendorMetadata metadata;
    metadata.source = tr("from the program's version resource");
    if (!directoryCount || *directoryCount < 3 || directories + 3 * 8 > optional + *optionalSize)
        return metadata; // no resource directory: the file says nothing
    const auto resourceRva = pe.u32(directories + 2 * 8);
    if (!resourceRva || *resourceRva == 0)
        return metadata;

    // Sections map RVAs to file offsets.
    struct Section { quint32 va, size, raw, rawSize; };
    QList<Section> sections;
    const qint64 table = optional + *optionalSize;
    for (int i = 0; i < qMin<int>(*sectionCount, 96); ++i) {
        const qint64 at = table + qint64(i) * 40;
        const auto vsize = pe.u32(at + 8), va = pe.u32(at + 12), rawSize = pe.u32(at + 16), raw = pe.u32(at + 20);
        if (!vsize || !va || !rawSize || !raw)
            return notPe();
        sections.append({*va, qMax(*vsize, *rawSize), *raw, *rawSize});
    }
    const auto fileOffset = [&](quint32 rva) -> std::optional<qint64> {
        for (const Section &s : sections) {
            if (rva >= s.va && qint64(rva) < qint64(s.va) + s.size && rva - s.va < s.rawSize)
                return qint64(s.raw) + (rva - s.va);
        }
        return std::nullopt;
    };
    const auto resourceBase = fileOffset(*resourceRva);
    if (!resourceBase)
        return notPe();
    // Resource tree: type (16 = RT_VERSION) → name → language → data entry.
    const auto findEntry = [&](qint64 directory, std::optional<quint32> wantedId) -> std::optional<quint32> {
        const auto named = pe.u16(directory + 12), ids = pe.u16(directory + 14);
        if (!named || !ids)
            return std::nullopt;
        const int count = qMin(int(*named) + int(*ids), 4096);
        for (int i = 0; i < count; ++i) {
            const auto id = pe.u32(directory + 16 + qint64(i) * 8);
            const auto offset = pe.u32(directory + 16 + qint64(i) * 8 + 4);
            if (!id || !offset)
                return std::nullopt;
            if (!wantedId || (!(*id & 0x80000000u) && *id == *wantedId))
                return *offset;
        }
        return std::nullopt;
    };
    qint64 directory = *resourceBase;
    std::optional<quint32> next = findEntry(directory, 16u);
    for (int level = 0; level < 2 && next; ++level) {
        if (!(*next & 0x80000000u))
            return notPe();
        directory = *resourceBase + (*next & 0x7fffffffu);
        next = findEntry(directory, std::nullopt);
    }
    if (!next)
        return metadata; // no version resource
    if (*next & 0x80000000u)
        return notPe();
    const qint64 dataEntry = *resourceBase + *next;
    const auto dataRva = pe.u32(dataEntry), dataSize = pe.u32(dataEntry + 4);
    if (!dataRva || !dataSize || *dataSize > 1024 * 1024)
        return notPe();
    const auto dataOffset = fileOffset(*dataRva);
    if (!dataOffset)
        return notPe();
    const auto versionInfo = pe.bytes(*dataOffset, *dataSize);
    if (!versionInfo || versionInfo->size() < 6)
        return notPe();

    QHash<QString, QString> strings;
    walkVersionBlocks(*versionInfo, 0, qMin<qsizetype>(versionInfo->size(), word(*versionInfo, 0)), 0, &strings);
    metadata.productName = strings.value(QStringLiteral("ProductName"));
    metadata.manufacturer = strings.value(QStringLiteral("CompanyName"));
    metadata.version = strings.value(QStringLiteral("ProductVersion"));
    if (metadata.version.isEmpty())
        metadata.version = strings.value(QStringLiteral("FileVersion"));
    // The fixed part (VS_FIXEDFILEINFO) when the strings do not say.
    if (metadata.version.isEmpty()) {
        const int at = versionInfo->indexOf(QByteArray::fromHex("bd04effe"));
        if (at >= 0 && at + 24 <= versionInfo->size()) {
            const auto ms = word(*versionInfo, at + 16) | quint32(word(*versionInfo, at + 18)) << 16;
            const auto ls = word(*versionInfo, at + 20) | quint32(word(*versionInfo, at + 22)) << 16;
            if (ms || ls)
                metadata.version = QStringLiteral("%1.%2.%3.%4").arg(ms >> 16).arg(ms & 0xffff).arg(ls >> 16).arg(ls & 0xffff);
        }
    }
    return metadata;
}

} // namespace ft
