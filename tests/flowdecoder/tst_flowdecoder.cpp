#include "flowdecoder.h"
#include "netflow9encoder.h"

#include <QRandomGenerator>
#include <QTest>
#include <QtEndian>

using namespace ft::flow;

namespace {

// Builds a datagram field by field, big-endian, exactly as the RFCs lay the bytes out.
// Deliberately independent of the encoder under test.
class Bytes
{
public:
    Bytes &u8(int v)
    {
        m_data.append(char(v & 0xFF));
        return *this;
    }
    Bytes &u16(int v) { return u8(v >> 8).u8(v); }
    Bytes &u32(quint32 v) { return u16(int(v >> 16)).u16(int(v & 0xFFFF)); }
    Bytes &bytes(const QByteArray &raw)
    {
        m_data.append(raw);
        return *this;
    }
    Bytes &zeros(int n)
    {
        m_data.append(QByteArray(n, '\0'));
        return *this;
    }
    int size() const { return int(m_data.size()); }
    void patch16(int at, int v)
    {
        m_data[at] = char((v >> 8) & 0xFF);
        m_data[at + 1] = char(v & 0xFF);
    }
    QByteArray data() const { return m_data; }
    operator QByteArray() const { return m_data; }

private:
    QByteArray m_data;
};

// A set / flowset: id, length (header included), body.
QByteArray set(int id, const QByteArray &body)
{
    return Bytes().u16(id).u16(4 + int(body.size())).bytes(body);
}

QByteArray v5(int count, int records)
{
    Bytes b;
    b.u16(5).u16(count).u32(123456).u32(1764230400).u32(0).u32(42).u8(1).u8(2).u16(0);
    for (int i = 0; i < records; ++i) {
        b.u8(10).u8(0).u8(0).u8(i + 1); // srcaddr
        b.u8(192).u8(168).u8(1).u8(1); // dstaddr
        b.u32(0); // nexthop
        b.u16(1).u16(2); // input, output
        b.u32(10).u32(1500); // dPkts, dOctets
        b.u32(1000).u32(2000); // first, last
        b.u16(40000 + i).u16(443); // ports
        b.u8(0).u8(0x1b).u8(6).u8(0); // pad1, tcp_flags, prot, tos
        b.u16(0).u16(0).u8(24).u8(24).u16(0); // as, masks, pad2
    }
    return b;
}

QByteArray v9Header(quint32 sourceId, quint32 sequence = 1, int count = 0)
{
    return Bytes().u16(9).u16(count).u32(5000).u32(1764230400).u32(sequence).u32(sourceId);
}

// v9 template 256: IPV4_SRC_ADDR, IPV4_DST_ADDR, L4_SRC_PORT, L4_DST_PORT, PROTOCOL,
// IN_PKTS, IN_BYTES: 21 bytes a record.
constexpr int kV9RecordLength = 21;
QByteArray v9TemplateSet(int templateId = 256)
{
    Bytes b;
    b.u16(templateId).u16(7);
    b.u16(8).u16(4)
            .u16(12)
            .u16(4)
            .u16(7)
            .u16(2)
            .u16(11)
            .u16(2)
            .u16(4)
            .u16(1)
            .u16(2)
            .u16(4)
            .u16(1)
            .u16(4);
    return set(0, b);
}

// `records` records of template 256, padded to 4 bytes as exporters do.
QByteArray v9DataSet(int records, int templateId = 256)
{
    Bytes b;
    for (int i = 0; i < records; ++i)
        b.u8(10).u8(1).u8(0).u8(i).u8(10).u8(2).u8(0).u8(1).u16(1024 + i).u16(80).u8(6).u32(3).u32(
                180);
    while (b.size() % 4 != 0)
        b.u8(0);
    return set(templateId, b);
}

// v9 options template 257: scope SYSTEM (4 bytes), options TOTAL_BYTES_EXP, TOTAL_PKTS_EXP.
QByteArray v9OptionsTemplateSet()
{
    Bytes b;
    b.u16(257).u16(4).u16(8);
    b.u16(1).u16(4);
    b.u16(40).u16(4).u16(41).u16(4);
    b.zeros(2); // padding to 4 bytes
    return set(1, b);
}

QByteArray v9OptionsDataSet()
{
    return set(257, Bytes().u32(0x0a000001).u32(123456).u32(789));
}

QByteArray ipfixMessage(quint32 domain, const QList<QByteArray> &sets, quint32 sequence = 7)
{
    Bytes b;
    b.u16(10).u16(0).u32(1764230400).u32(sequence).u32(domain);
    for (const QByteArray &s : sets)
        b.bytes(s);
    b.patch16(2, b.size());
    return b;
}

// IPFIX template 300: sourceIPv4Address, destinationIPv4Address, protocolIdentifier,
// applicationName (variable length), and an enterprise-specific field (PEN 29305, 2 bytes).
QByteArray ipfixTemplateSet()
{
    Bytes b;
    b.u16(300).u16(5);
    b.u16(8).u16(4).u16(12).u16(4).u16(4).u16(1);
    b.u16(96).u16(0xFFFF);
    b.u16(0x8000 | 100).u16(2).u32(29305);
    return set(2, b);
}

// Three records of template 300 (short, empty and long variable-length values), then
// three bytes of padding (shorter than the 12-byte minimum record).
QByteArray ipfixDataSet()
{
    Bytes b;
    b.u32(0x0a000001).u32(0x0a000002).u8(6).u8(3).bytes("ssh").u16(7);
    b.u32(0x0a000003).u32(0x0a000004).u8(17).u8(0).u16(8);
    b.u32(0x0a000005).u32(0x0a000006).u8(6).u8(255).u16(300).bytes(QByteArray(300, 'x')).u16(9);
    b.zeros(3);
    return set(300, b);
}

// IPFIX options template 400: scope observationDomainId, option exportedMessageTotalCount.
QByteArray ipfixOptionsTemplateSet()
{
    return set(3, Bytes().u16(400).u16(2).u16(1).u16(149).u16(4).u16(41).u16(8));
}

QByteArray ipfixOptionsDataSet()
{
    return set(400, Bytes().u32(1).u32(0).u32(500).u32(1).u32(0).u32(501));
}

const QHostAddress kExporter(QStringLiteral("192.0.2.10"));

} // namespace

class tst_FlowDecoder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptsSequences_data();
    void acceptsSequences();
    void rejects_data();
    void rejects();
    void rejectedDatagramTeachesNothing();
    void templatesArePerExporter();
    void cacheIsBounded();
    void survivesGarbage();
    void encoderRoundTrip_data();
    void encoderRoundTrip();
    void encoderRefreshesTemplate();
};

void tst_FlowDecoder::acceptsSequences_data()
{
    QTest::addColumn<QList<QByteArray>>("datagrams");
    QTest::addColumn<int>("protocol");
    QTest::addColumn<QList<int>>("flows"); // per datagram
    QTest::addColumn<QList<int>>("deferred"); // deferred sets per datagram
    QTest::addColumn<int>("templates"); // (options) templates, all datagrams
    QTest::addColumn<int>("optionsRecords"); // all datagrams

    const int v5 = int(Protocol::NetFlow5);
    const int v9 = int(Protocol::NetFlow9);
    const int ipfix = int(Protocol::Ipfix);

    QTest::newRow("v5 1 record") << QList<QByteArray>{::v5(1, 1)} << v5 << QList<int>{1}
                                 << QList<int>{0} << 0 << 0;
    QTest::newRow("v5 7 records") << QList<QByteArray>{::v5(7, 7)} << v5 << QList<int>{7}
                                  << QList<int>{0} << 0 << 0;
    QTest::newRow("v5 30 records")
            << QList<QByteArray>{::v5(30, 30)} << v5 << QList<int>{30} << QList<int>{0} << 0 << 0;

    QTest::newRow("v9 template and data in one datagram")
            << QList<QByteArray>{v9Header(1) + v9TemplateSet() + v9DataSet(5)} << v9
            << QList<int>{5} << QList<int>{0} << 1 << 0;
    QTest::newRow("v9 template, then data")
            << QList<QByteArray>{v9Header(1) + v9TemplateSet(), v9Header(1, 2) + v9DataSet(3),
                                 v9Header(1, 3) + v9DataSet(4) + v9DataSet(2)}
            << v9 << QList<int>{0, 3, 6} << QList<int>{0, 0, 0} << 1 << 0;
    QTest::newRow("v9 data before its template is deferred")
            << QList<QByteArray>{v9Header(1) + v9DataSet(4), v9Header(1, 2) + v9TemplateSet(),
                                 v9Header(1, 3) + v9DataSet(4)}
            << v9 << QList<int>{0, 0, 4} << QList<int>{1, 0, 0} << 1 << 0;
    QTest::newRow("v9 data ahead of the template in the same datagram")
            << QList<QByteArray>{v9Header(1) + v9DataSet(2) + v9TemplateSet() + v9DataSet(3)} << v9
            << QList<int>{3} << QList<int>{1} << 1 << 0;
    QTest::newRow("v9 unknown template id")
            << QList<QByteArray>{v9Header(1) + v9TemplateSet() + v9DataSet(3, 999)} << v9
            << QList<int>{0} << QList<int>{1} << 1 << 0;
    QTest::newRow("v9 options template and its data are no flows")
            << QList<QByteArray>{v9Header(1) + v9OptionsTemplateSet() + v9OptionsDataSet(),
                                 v9Header(1, 2) + v9TemplateSet() + v9OptionsDataSet()
                                         + v9DataSet(2)}
            << v9 << QList<int>{0, 2} << QList<int>{0, 0} << 2 << 2;
    QTest::newRow("v9 reserved flowset id skipped")
            << QList<QByteArray>{v9Header(1) + set(77, QByteArray(8, '\1')) + v9TemplateSet()
                                 + v9DataSet(1)}
            << v9 << QList<int>{1} << QList<int>{0} << 1 << 0;
    QTest::newRow("v9 data record filling the set exactly (no padding)")
            << QList<QByteArray>{v9Header(1) + v9TemplateSet() + v9DataSet(4)} << v9
            << QList<int>{4} << QList<int>{0} << 1 << 0;

    QTest::newRow("IPFIX variable-length, enterprise field, padding")
            << QList<QByteArray>{ipfixMessage(5, {ipfixTemplateSet(), ipfixDataSet()})} << ipfix
            << QList<int>{3} << QList<int>{0} << 1 << 0;
    QTest::newRow("IPFIX template, then data twice")
            << QList<QByteArray>{ipfixMessage(5, {ipfixTemplateSet()}),
                                 ipfixMessage(5, {ipfixDataSet(), ipfixDataSet()})}
            << ipfix << QList<int>{0, 6} << QList<int>{0, 0} << 1 << 0;
    QTest::newRow("IPFIX options template and data") << QList<QByteArray>{ipfixMessage(
            5,
            {ipfixOptionsTemplateSet(), ipfixOptionsDataSet(), ipfixTemplateSet(), ipfixDataSet()})}
                                                     << ipfix << QList<int>{3} << QList<int>{0} << 2
                                                     << 2;
    QTest::newRow("IPFIX data without template")
            << QList<QByteArray>{ipfixMessage(5, {ipfixDataSet()})} << ipfix << QList<int>{0}
            << QList<int>{1} << 0 << 0;
    QTest::newRow("IPFIX template withdrawn")
            << QList<QByteArray>{ipfixMessage(5, {ipfixTemplateSet(), ipfixDataSet()}),
                                 ipfixMessage(5, {set(2, Bytes().u16(300).u16(0))}),
                                 ipfixMessage(5, {ipfixDataSet()})}
            << ipfix << QList<int>{3, 0, 0} << QList<int>{0, 0, 1} << 1 << 0;
    QTest::newRow("IPFIX all templates withdrawn")
            << QList<QByteArray>{ipfixMessage(5, {ipfixTemplateSet()}),
                                 ipfixMessage(5, {set(2, Bytes().u16(2).u16(0)), ipfixDataSet()})}
            << ipfix << QList<int>{0, 0} << QList<int>{0, 1} << 1 << 0;
    QTest::newRow("IPFIX message of only a header")
            << QList<QByteArray>{ipfixMessage(5, {})} << ipfix << QList<int>{0} << QList<int>{0}
            << 0 << 0;
}

void tst_FlowDecoder::acceptsSequences()
{
    QFETCH(QList<QByteArray>, datagrams);
    QFETCH(int, protocol);
    QFETCH(QList<int>, flows);
    QFETCH(QList<int>, deferred);
    QFETCH(int, templates);
    QFETCH(int, optionsRecords);

    FlowDecoder decoder;
    int templatesSeen = 0;
    int optionsSeen = 0;
    for (int i = 0; i < datagrams.size(); ++i) {
        const auto result = decoder.decode(datagrams.at(i), kExporter);
        QVERIFY2(result.has_value(),
                 qPrintable(QStringLiteral("datagram %1: %2")
                                    .arg(i)
                                    .arg(result ? QString() : result.error())));
        QCOMPARE(int(result->protocol), protocol);
        QCOMPARE(result->flows, flows.at(i));
        QCOMPARE(result->deferredSets, deferred.at(i));
        templatesSeen += result->templates + result->optionsTemplates;
        optionsSeen += result->optionsRecords;
    }
    QCOMPARE(templatesSeen, templates);
    QCOMPARE(optionsSeen, optionsRecords);
}

void tst_FlowDecoder::rejects_data()
{
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<QString>("reason"); // a fragment of the sentence

    QTest::newRow("empty") << QByteArray() << "too short";
    QTest::newRow("one byte") << QByteArray(1, '\0') << "too short";
    QTest::newRow("unknown version") << Bytes().u16(7).zeros(40).data() << "Version 7";
    QTest::newRow("text") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << "is not NetFlow";
    QTest::newRow("sFlow") << Bytes().u32(5).u32(1).zeros(40).data() << "Version 0";

    QTest::newRow("v5 header cut") << v5(1, 1).left(10) << "cut off";
    QTest::newRow("v5 zero records") << v5(0, 0) << "not 0";
    QTest::newRow("v5 31 records") << v5(31, 31) << "not 31";
    QTest::newRow("v5 record missing") << v5(3, 2) << "not 120";
    QTest::newRow("v5 extra byte") << v5(2, 2) + '\0' << "not 121";

    QTest::newRow("v9 header cut") << v9Header(1).left(19) << "cut off";
    QTest::newRow("v9 flowset length 0")
            << v9Header(1) + Bytes().u16(256).u16(0).zeros(8).data() << "length 0";
    QTest::newRow("v9 flowset length 2")
            << v9Header(1) + Bytes().u16(0).u16(2).zeros(8).data() << "length 2";
    QTest::newRow("v9 flowset past the end")
            << v9Header(1) + Bytes().u16(256).u16(64).zeros(20).data() << "past the end";
    QTest::newRow("v9 stray bytes")
            << v9Header(1) + v9TemplateSet() + QByteArray(2, '\1') << "stray";
    QTest::newRow("v9 template cut off")
            << v9Header(1) + set(0, Bytes().u16(256).u16(10).u16(8).u16(4).u16(12).u16(4))
            << "cut off";
    QTest::newRow("v9 reserved template id")
            << v9Header(1) + set(0, Bytes().u16(5).u16(1).u16(8).u16(4)) << "reserved";
    QTest::newRow("v9 zero-length records")
            << v9Header(1) + set(0, Bytes().u16(256).u16(2).u16(8).u16(0).u16(12).u16(0))
            << "zero length";
    QTest::newRow("v9 options template longer than its flowset")
            << v9Header(1) + set(1, Bytes().u16(257).u16(4).u16(40).u16(1).u16(4)) << "longer";
    QTest::newRow("v9 variable length field")
            << v9Header(1) + set(0, Bytes().u16(256).u16(1).u16(96).u16(0xFFFF))
            << "variable-length";

    QTest::newRow("IPFIX header cut") << ipfixMessage(1, {}).left(15) << "cut off";
    {
        QByteArray longer = ipfixMessage(1, {ipfixTemplateSet()});
        longer[3] = char(longer[3] + 8);
        QTest::newRow("IPFIX length beyond the datagram") << longer << "says it is";
        QTest::newRow("IPFIX datagram beyond its length")
                << ipfixMessage(1, {ipfixTemplateSet()}) + QByteArray(4, '\0') << "says it is";
    }
    QTest::newRow("IPFIX set length 0")
            << ipfixMessage(1, {Bytes().u16(300).u16(0).zeros(4)}) << "length 0";
    QTest::newRow("IPFIX variable-length record overruns its set")
            << ipfixMessage(1,
                            {ipfixTemplateSet(),
                             set(300, Bytes().u32(1).u32(2).u8(6).u8(200).bytes("short").u16(1))})
            << "runs past";
    QTest::newRow("IPFIX long variable length cut")
            << ipfixMessage(1,
                            {ipfixTemplateSet(),
                             set(300, Bytes().u32(1).u32(2).u8(6).u8(255).u8(1).u8(0).u8(0).u8(0))})
            << "runs past";
    QTest::newRow("IPFIX enterprise number cut off")
            << ipfixMessage(1, {set(2, Bytes().u16(300).u16(1).u16(0x8001).u16(4).u16(0))})
            << "enterprise";
    QTest::newRow("IPFIX options template without scope")
            << ipfixMessage(1, {set(3, Bytes().u16(400).u16(1).u16(0).u16(149).u16(4))}) << "scope";
    QTest::newRow("IPFIX options template cut before scope count")
            << ipfixMessage(1, {set(3, Bytes().u16(400).u16(1))}) << "scope field count";
}

void tst_FlowDecoder::rejects()
{
    QFETCH(QByteArray, datagram);
    QFETCH(QString, reason);

    FlowDecoder decoder;
    const auto result = decoder.decode(datagram, kExporter);
    QVERIFY2(!result.has_value(), "a malformed datagram was accepted");
    QVERIFY2(result.error().contains(reason), qPrintable(result.error()));
}

void tst_FlowDecoder::rejectedDatagramTeachesNothing()
{
    FlowDecoder decoder;
    // A sound template set followed by a set that runs past the end.
    const QByteArray broken
            = v9Header(1) + v9TemplateSet() + Bytes().u16(256).u16(200).zeros(8).data();
    QVERIFY(!decoder.decode(broken, kExporter).has_value());

    const auto data = decoder.decode(v9Header(1, 2) + v9DataSet(3), kExporter);
    QVERIFY(data.has_value());
    QCOMPARE(data->flows, 0);
    QCOMPARE(data->deferredSets, 1);
    QCOMPARE(decoder.templateCache().exporterCount(), 0);
}

void tst_FlowDecoder::templatesArePerExporter()
{
    FlowDecoder decoder;
    QVERIFY(decoder.decode(v9Header(1) + v9TemplateSet(), kExporter).has_value());

    // Same source id from another address, another source id, and IPFIX with the same
    // id as the v9 source id: none of them knows template 256.
    const auto otherAddress
            = decoder.decode(v9Header(1) + v9DataSet(2), QHostAddress("192.0.2.11"));
    const auto otherSource = decoder.decode(v9Header(2) + v9DataSet(2), kExporter);
    const auto ipfix = decoder.decode(ipfixMessage(1, {set(256, QByteArray(21, '\0'))}), kExporter);
    const auto same = decoder.decode(v9Header(1) + v9DataSet(2), kExporter);
    QVERIFY(otherAddress && otherSource && ipfix && same);
    QCOMPARE(otherAddress->deferredSets, 1);
    QCOMPARE(otherSource->deferredSets, 1);
    QCOMPARE(ipfix->deferredSets, 1);
    QCOMPARE(same->flows, 2);
    QCOMPARE(otherSource->sourceId, 2u);
}

void tst_FlowDecoder::cacheIsBounded()
{
    FlowDecoder decoder(2);
    for (quint32 source = 1; source <= 3; ++source)
        QVERIFY(decoder.decode(v9Header(source) + v9TemplateSet(), kExporter).has_value());
    QCOMPARE(decoder.templateCache().exporterCount(), 2);

    // The least recently used exporter (1) went; 2 and 3 are kept.
    QCOMPARE(decoder.decode(v9Header(1) + v9DataSet(1), kExporter)->deferredSets, 1);
    QCOMPARE(decoder.decode(v9Header(2) + v9DataSet(1), kExporter)->flows, 1);
    QCOMPARE(decoder.decode(v9Header(3) + v9DataSet(1), kExporter)->flows, 1);

    // Many spoofed exporters never grow it.
    for (quint32 source = 100; source < 1100; ++source)
        QVERIFY(decoder.decode(v9Header(source) + v9TemplateSet(), kExporter).has_value());
    QCOMPARE(decoder.templateCache().exporterCount(), 2);
}

void tst_FlowDecoder::survivesGarbage()
{
    // Random bytes behind each version number, and every truncation and many bit flips
    // of sound datagrams: each is answered (accepted or rejected with a reason), none
    // crashes or hangs. Run under ASan/valgrind for the full value of this test.
    QRandomGenerator random(20261127);
    FlowDecoder decoder;
    const QList<QByteArray> sound = {
            v5(3, 3),
            v9Header(1) + v9TemplateSet() + v9OptionsTemplateSet() + v9DataSet(5)
                    + v9OptionsDataSet(),
            ipfixMessage(5,
                         {ipfixTemplateSet(), ipfixOptionsTemplateSet(), ipfixDataSet(),
                          ipfixOptionsDataSet()}),
    };
    int answered = 0;
    int unexplained = 0; // rejections without a reason, or impossible counts
    auto accepts = [&](const QByteArray &datagram) {
        const auto result = decoder.decode(datagram, kExporter);
        ++answered;
        if (!result) {
            unexplained += result.error().isEmpty() ? 1 : 0;
            return false;
        }
        unexplained += result->flows < 0 || result->flows > datagram.size() ? 1 : 0;
        return true;
    };
    // Cut short, a v5 datagram or an IPFIX message (both state their length) is refused.
    for (const int which : {0, 2}) {
        for (int length = 0; length < sound.at(which).size(); ++length)
            QVERIFY2(!accepts(sound.at(which).left(length)), qPrintable(QString::number(length)));
    }
    for (int length = 0; length < sound.at(1).size(); ++length)
        accepts(sound.at(1).left(length));
    for (const QByteArray &datagram : sound) {
        for (int i = 0; i < 3000; ++i) {
            QByteArray mutated = datagram;
            const int flips = 1 + int(random.bounded(4));
            for (int f = 0; f < flips; ++f)
                mutated[int(random.bounded(int(mutated.size())))] ^= char(1 << random.bounded(8));
            accepts(mutated);
        }
    }
    int randomAccepted = 0;
    for (int i = 0; i < 3000; ++i) {
        Bytes b;
        b.u16(QList<int>{5, 9, 10}.at(int(random.bounded(3))));
        const int length = int(random.bounded(1500));
        for (int j = 0; j < length; ++j)
            b.u8(int(random.bounded(256)));
        randomAccepted += accepts(b) ? 1 : 0;
    }
    qInfo("%d damaged datagrams answered; %d of 3000 random ones accepted", answered,
          randomAccepted);
    QVERIFY(randomAccepted < 30);
    QCOMPARE(unexplained, 0);
    QVERIFY(decoder.templateCache().exporterCount() <= TemplateCache::kDefaultMaxExporters);
}

void tst_FlowDecoder::encoderRoundTrip_data()
{
    QTest::addColumn<int>("records");
    QTest::addColumn<int>("encoded");

    QTest::newRow("none") << 0 << 0;
    QTest::newRow("one") << 1 << 1;
    QTest::newRow("seven") << 7 << 7;
    QTest::newRow("full") << 25 << 25;
    QTest::newRow("more than fit") << 40 << 25;
}

void tst_FlowDecoder::encoderRoundTrip()
{
    QFETCH(int, records);
    QFETCH(int, encoded);

    const qint64 boot = 1764230400000;
    NetFlow9Encoder encoder(77, boot);
    QList<FlowRecord> flows;
    for (int i = 0; i < records; ++i) {
        FlowRecord r;
        r.sourceAddress = 0x0a000000u + quint32(i);
        r.destinationAddress = 0xc0a80101u;
        r.sourcePort = quint16(40000 + i);
        r.destinationPort = 443;
        flows.append(r);
    }
    const QByteArray first = encoder.encode(flows, boot + 1500);
    const QByteArray second = encoder.encode(flows, boot + 1600);

    FlowDecoder decoder;
    const auto a = decoder.decode(first, kExporter);
    const auto b = decoder.decode(second, kExporter);
    QVERIFY2(a.has_value(), qPrintable(a ? QString() : a.error()));
    QVERIFY2(b.has_value(), qPrintable(b ? QString() : b.error()));
    QCOMPARE(int(a->protocol), int(Protocol::NetFlow9));
    QCOMPARE(a->sourceId, 77u);
    QCOMPARE(a->templates, 1);
    QCOMPARE(a->flows, encoded);
    QCOMPARE(a->sequence, 0u);
    QCOMPARE(b->templates, 0);
    QCOMPARE(b->flows, encoded);
    QCOMPARE(b->sequence, 1u);
    QCOMPARE(b->exportTime, quint32((boot + 1600) / 1000));

    // Header: record count (template + data records), uptime in ms since boot.
    QCOMPARE(qFromBigEndian<quint16>(first.constData() + 2), quint16(encoded + 1));
    QCOMPARE(qFromBigEndian<quint32>(first.constData() + 4), 1500u);
    QCOMPARE(first.size() % 4, 0);
    if (encoded > 0) {
        // The first record's source address and ports sit right behind the data flowset header.
        const int record
                = int(first.size()) - 4 - ((encoded * NetFlow9Encoder::kRecordLength + 3) / 4 * 4);
        QCOMPARE(qFromBigEndian<quint16>(first.constData() + record), quint16(256));
        QCOMPARE(qFromBigEndian<quint32>(first.constData() + record + 4), 0x0a000000u);
        QCOMPARE(qFromBigEndian<quint16>(first.constData() + record + 12), quint16(40000));
        QCOMPARE(qFromBigEndian<quint16>(first.constData() + record + 14), quint16(443));
    }
}

void tst_FlowDecoder::encoderRefreshesTemplate()
{
    const qint64 boot = 1764230400000;
    NetFlow9Encoder encoder(3, boot);
    const QList<FlowRecord> one{FlowRecord()};

    // By count: datagrams 0, 20, 40 carry the template (100 ms apart, well within 10 s).
    QList<int> withTemplate;
    for (int i = 0; i < 45; ++i) {
        FlowDecoder fresh; // knows no template, so only a datagram with one counts flows
        if (fresh.decode(encoder.encode(one, boot + i * 100), kExporter)->flows == 1)
            withTemplate.append(i);
    }
    QCOMPARE(withTemplate, (QList<int>{0, 20, 40}));

    // By time: 10 s after the last template, the next datagram carries it again.
    FlowDecoder fresh;
    QCOMPARE(fresh.decode(encoder.encode(one, boot + 4500), kExporter)->templates, 0);
    QCOMPARE(fresh.decode(encoder.encode(one, boot + 4000 + 10000), kExporter)->templates, 1);

    encoder.resendTemplate();
    QCOMPARE(fresh.decode(encoder.encode(one, boot + 14100), kExporter)->templates, 1);
    QCOMPARE(encoder.sequence(), 48u);
}

QTEST_GUILESS_MAIN(tst_FlowDecoder)
#include "tst_flowdecoder.moc"
