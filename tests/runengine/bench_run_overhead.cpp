// Benchmarks of the run engine on real sandbox clusters (not a test: it prints figures).
//
//   bench_run_overhead [--workers N] [--slow-seconds S] [--stage-nodes N] [--stage-mib M]
//                      [--delivery portal|workstation] [--rounds R] [--skip-rolling] [--skip-staging]
//
// Rolling run: the wall time of the waves (staging excluded) against the agents' own
// work time (first to last log line of each upgrade job); BRIEF §6 wants ≤ 5 % overhead.
// Staging: one package of M MiB staged to N nodes, through the portal's agent (default:
// one upload, then every node fetches it from the portal agent) or the engine's package
// server, against two curl baselines, each fetching the same file to disk N times in
// parallel: over plain HTTP from this workstation's package server, and over HTTPS from
// the portal agent's own file endpoint (a finished upload; the token, the agent's public
// key pinned). The budget (≥ 80 %) is against the baseline that fetches what the nodes
// fetch, the way they fetch it: HTTPS from the portal's agent for portal delivery, the
// package server for workstation delivery. Plus the memory growth of this process and
// of every agent (from before the baselines to the peak during the staging run), and
// where the CPU went in each phase (this process, the portal's agent, the other agents,
// the machine's idle share). With --rounds R, the HTTPS baseline and a staging run
// alternate R times (a copy of the package under a new name each time) and the median
// ratio is printed: one pair alone swings by ±10 % with the machine's load.

#include "run/runengine.h"
#include "agentlink/uploadjobs.h"
#include "packages/packageserver.h"
#include "sandboxfixture.h"

#include <QCommandLineParser>
#include <QDirIterator>
#include <QSslCertificate>
#include <QSslKey>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include <unistd.h>

using namespace ft;
using namespace fixture;

namespace {

qint64 statusKiB(const QString &pid, const char *field)
{
    QFile file(QStringLiteral("/proc/%1/status").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (line.startsWith(field))
            return line.mid(qstrlen(field)).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

QString selfPid()
{
    return QString::number(QCoreApplication::applicationPid());
}

QStringList agentPids(const QString &clusterDir)
{
    QStringList pids;
    const QJsonObject json = QJsonDocument::fromJson(readAll(clusterDir + QStringLiteral("/cluster.json"))).object();
    for (const QJsonValue &node : json.value(QStringLiteral("nodes")).toArray()) {
        const QJsonValue pid = node.toObject().value(QStringLiteral("agent")).toObject().value(QStringLiteral("pid"));
        if (pid.isDouble())
            pids.append(QString::number(pid.toInteger()));
    }
    return pids;
}

Expected<AgentEndpoint> lookup(UpgradeSession &session, const QString &name)
{
    for (const NodeStatus &node : session.nodes()) {
        if (node.name == name)
            return session.endpointFor(node);
    }
    return makeError(QStringLiteral("no node %1").arg(name));
}

// CPU time of a process (user + system) in clock ticks; its children's too when they
// were waited for (curl's).
qint64 cpuTicks(const QString &pid, bool children = false)
{
    QFile file(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray stat = file.readAll();
    // Fields after the command's closing parenthesis; utime is the 14th field overall.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    qint64 ticks = fields.value(11).toLongLong() + fields.value(12).toLongLong();
    if (children)
        ticks += fields.value(13).toLongLong() + fields.value(14).toLongLong();
    return ticks;
}

// The whole machine's idle and total ticks, all cores (/proc/stat's first line).
struct MachineTicks
{
    qint64 idle = 0;
    qint64 total = 0;
};

MachineTicks machineTicks()
{
    QFile file(QStringLiteral("/proc/stat"));
    MachineTicks ticks;
    if (!file.open(QIODevice::ReadOnly))
        return ticks;
    const QList<QByteArray> fields = file.readLine().simplified().split(' ');
    for (int i = 1; i < fields.size(); ++i)
        ticks.total += fields.at(i).toLongLong();
    ticks.idle = fields.value(4).toLongLong() + fields.value(5).toLongLong(); // idle + iowait
    return ticks;
}

// Where the CPU went between two moments: this process (and its waited-for children),
// every agent, and how much of the machine stayed idle.
class CpuWindow
{
public:
    explicit CpuWindow(const QStringList &agents)
        : m_agents(agents)
    {
        m_self = cpuTicks(selfPid(), true);
        for (const QString &pid : m_agents)
            m_agentTicks.append(cpuTicks(pid));
        m_machine = machineTicks();
    }

    // "this process 4.1 s, portal agent 9.8 s, other agents 1.9 … 2.0 s (13.3 s), idle 12 %"
    QString report(const char *self) const
    {
        const double tick = double(sysconf(_SC_CLK_TCK));
        const qint64 selfNow = cpuTicks(selfPid(), true);
        QList<double> agents;
        for (int i = 0; i < m_agents.size(); ++i)
            agents.append(double(cpuTicks(m_agents.at(i)) - m_agentTicks.at(i)) / tick);
        const MachineTicks now = machineTicks();
        const double others = std::accumulate(agents.cbegin() + std::min<qsizetype>(1, agents.size()), agents.cend(), 0.0);
        const auto [least, most] = std::minmax_element(agents.cbegin() + std::min<qsizetype>(1, agents.size()), agents.cend());
        const qint64 total = std::max<qint64>(1, now.total - m_machine.total);
        return QStringLiteral("%1 %2 s, portal agent %3 s, other agents %4 … %5 s (%6 s), total %7 core-s, machine idle %8 %")
            .arg(QLatin1String(self))
            .arg(double(selfNow - m_self) / tick, 0, 'f', 1)
            .arg(agents.value(0), 0, 'f', 1)
            .arg(least != agents.cend() ? *least : 0.0, 0, 'f', 1)
            .arg(most != agents.cend() ? *most : 0.0, 0, 'f', 1)
            .arg(others, 0, 'f', 1)
            .arg(double(selfNow - m_self) / tick + agents.value(0) + others, 0, 'f', 1)
            .arg(100.0 * double(now.idle - m_machine.idle) / double(total), 0, 'f', 0);
    }

private:
    QStringList m_agents;
    QList<qint64> m_agentTicks;
    qint64 m_self = 0;
    MachineTicks m_machine;
};

void print(const char *format, auto... args)
{
    std::printf(format, args...);
    std::fflush(stdout);
}

// N curls fetching url to disk at once; the wall time in ms, or -1 when one failed.
qint64 curlTimes(int nodes, const QString &directory, const QStringList &options, const QUrl &url)
{
    QTemporaryDir out(directory);
    QList<QProcess *> curls;
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < nodes; ++i) {
        auto *curl = new QProcess;
        curl->start(QStringLiteral("curl"), QStringList{QStringLiteral("-sS"), QStringLiteral("-f"), QStringLiteral("-o"),
                                                        out.filePath(QString::number(i))}
                                                + options + QStringList{url.toString()});
        curls.append(curl);
    }
    // A real event loop: the servers (this process's package server) answer from it.
    QEventLoop loop;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        for (QProcess *curl : curls) {
            if (curl->state() != QProcess::NotRunning)
                return;
        }
        loop.quit();
    });
    poll.start(20);
    loop.exec();
    const qint64 ms = clock.elapsed();
    bool ok = true;
    for (QProcess *curl : curls) {
        if (curl->exitStatus() != QProcess::NormalExit || curl->exitCode() != 0) {
            print("curl failed (exit %d): %s\n", curl->exitCode(), curl->readAllStandardError().constData());
            ok = false;
        }
    }
    qDeleteAll(curls);
    return ok ? ms : -1;
}

// curl's --pinnedpubkey of the agent whose certificate has this SHA-256 fingerprint.
QString pinnedPublicKey(const QString &clusterDir, const QString &fingerprint)
{
    QDirIterator files(clusterDir, {QStringLiteral("agent.crt")}, QDir::Files, QDirIterator::Subdirectories);
    while (files.hasNext()) {
        const QSslCertificate certificate(readAll(files.next()), QSsl::Pem);
        if (QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex())
                .compare(QString(fingerprint).remove(QLatin1Char(':')), Qt::CaseInsensitive) != 0)
            continue;
        return QStringLiteral("sha256//")
               + QString::fromLatin1(QCryptographicHash::hash(certificate.publicKey().toDer(), QCryptographicHash::Sha256)
                                         .toBase64());
    }
    return {};
}

// Waits for an agent call, in a real event loop.
template <typename Job, typename Signal>
void waitFor(Job *job, Signal signal)
{
    QEventLoop loop;
    QObject::connect(job, signal, &loop, &QEventLoop::quit);
    QTimer::singleShot(1800000, &loop, &QEventLoop::quit);
    loop.exec();
}

bool rolling(int workers, int slowSeconds)
{
    print("== Rolling run: portal + %d workers, installer %d s each ==\n", workers, slowSeconds);
    Cluster cluster;
    if (!cluster.up({QStringLiteral("--workers"), QString::number(workers)}))
        return false;
    const QString package = cluster.makePackage(QStringLiteral("server"), QStringLiteral("6.3.0-1500"),
                                                QStringLiteral("slow"),
                                                {QStringLiteral("--slow-seconds"), QString::number(slowSeconds)});
    UpgradeSession session;
    if (package.isEmpty() || !connectAndDiscover(session, cluster.file())
        || !choosePackage(session, package, Component::Server))
        return false;
    RunEngine engine(session.client());
    RunOptions options;
    options.journalPath = cluster.path(QStringLiteral("run.json"));
    options.delivery = PackageDelivery::Workstation;
    engine.setOptions(options);
    engine.setEndpointLookup([&session](const QString &name) { return lookup(session, name); });
    QElapsedTimer clock;
    qint64 runningAt = -1;
    bool finished = false;
    QObject::connect(&engine, &RunEngine::stateChanged, &engine, [&](RunState state) {
        if (state == RunState::Running && runningAt < 0)
            runningAt = clock.elapsed();
    });
    QObject::connect(&engine, &RunEngine::finished, &engine, [&] { finished = true; });
    if (Result prepared = engine.prepare(session.plan(), session.target()); !prepared) {
        print("prepare: %s\n", qPrintable(prepared.error()));
        return false;
    }
    clock.start();
    engine.start();
    QTest::qWaitFor([&] { return finished; }, 600000);
    const qint64 endAt = clock.elapsed();
    if (engine.state() != RunState::Completed) {
        print("the run ended as %s\n", qPrintable(toString(engine.state())));
        return false;
    }
    // The agents' own work: first to last log line of each upgrade job (ms precision).
    qint64 agentMs = 0;
    qint64 stepsMs = 0;
    for (const RunStepRecord &record : engine.journal().steps) {
        if (record.wave < 0)
            continue;
        stepsMs += record.elapsedMs;
        auto endpoint = lookup(session, record.step.node);
        auto *job = new FetchJobStatusJob(session.client(), *endpoint, record.agentJobId);
        job->setAutoDelete(false);
        bool done = false;
        QObject::connect(job, &AgentJob::finished, job, [&done] { done = true; });
        job->start();
        QTest::qWaitFor([&done] { return done; }, 20000);
        const QList<AgentLogLine> &log = job->status().log;
        if (!log.isEmpty())
            agentMs += log.first().time.msecsTo(log.last().time);
        delete job;
    }
    const qint64 wavesMs = endAt - runningAt;
    print("staging:                    %lld ms\n", runningAt);
    print("waves, wall time:           %lld ms\n", wavesMs);
    print("steps as the engine saw them: %lld ms\n", stepsMs);
    print("agents' own work:           %lld ms\n", agentMs);
    print("wizard overhead:            %.2f %% (budget 5 %%)\n",
          agentMs > 0 ? 100.0 * double(wavesMs - agentMs) / double(agentMs) : 0.0);
    return true;
}

// curl ×N over HTTPS from the portal's agent: a finished upload of the package, fetched
// with the token and the agent's public key pinned, as the nodes' agents fetch it. Also
// prints the upload alone. The wall time in ms, or -1.
qint64 curlFromPortal(UpgradeSession &session, Cluster &cluster, const QString &package, int nodes,
                      const QStringList &agents)
{
    const AgentEndpoint portal = session.portal();
    const qint64 size = QFileInfo(package).size();
    PackageUploadJob upload(session.client(), portal, package, QFileInfo(package).fileName(), size,
                            session.target().server->sha256);
    const CpuWindow uploadCpu(agents);
    QElapsedTimer uploadTime;
    uploadTime.start();
    upload.start();
    waitFor(&upload, &PackageUploadJob::finished);
    // The upload alone (no node fetching meanwhile): the pace the portal delivery can at best go at.
    print("upload to the portal agent alone: %lld ms, %.1f MiB/s\n", uploadTime.elapsed(),
          double(size) / 1048576.0 / (double(std::max<qint64>(1, uploadTime.elapsed())) / 1000.0));
    print("  CPU: %s\n", qPrintable(uploadCpu.report("wizard")));
    qint64 ms = -1;
    const QString pin = pinnedPublicKey(cluster.directory(), portal.fingerprint);
    if (upload.hasError() || pin.isEmpty()) {
        print("HTTPS baseline not measured: %s\n",
              upload.hasError() ? qPrintable(upload.errorString()) : "the portal agent's certificate was not found");
    } else {
        const CpuWindow cpu(agents);
        ms = curlTimes(nodes, cluster.path(QStringLiteral("curl-XXXXXX")),
                       {QStringLiteral("-k"), QStringLiteral("--pinnedpubkey"), pin, QStringLiteral("-H"),
                        QStringLiteral("Authorization: Bearer ") + portal.token},
                       upload.fileUrl());
        print("curl ×%d, HTTPS from the portal agent:  %lld ms, %.1f MiB/s\n", nodes, ms,
              double(size) * nodes / 1048576.0 / (double(ms) / 1000.0));
        print("  CPU: %s\n", qPrintable(cpu.report("curls")));
    }
    // The staging run must upload its own copy, not find this one.
    auto *remove = new DeleteUploadJob(session.client(), portal, upload.uploadId());
    remove->setAutoDelete(false);
    remove->start();
    waitFor(static_cast<AgentJob *>(remove), &AgentJob::finished);
    delete remove;
    return ms;
}

// Peak resident memory of some processes, sampled every 100 ms while it lives.
class MemorySampler
{
public:
    explicit MemorySampler(const QStringList &pids)
        : m_pids(pids)
    {
        for (const QString &pid : m_pids)
            m_peak.insert(pid, statusKiB(pid, "VmRSS:"));
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] {
            for (const QString &pid : m_pids)
                m_peak[pid] = std::max(m_peak.value(pid), statusKiB(pid, "VmRSS:"));
        });
        m_timer.start(100);
    }
    qint64 peak(const QString &pid) const { return m_peak.value(pid); }

private:
    QStringList m_pids;
    QHash<QString, qint64> m_peak;
    QTimer m_timer;
};

// One staging run of the session's package to every node, stopped after staging; the
// wall time in ms, or -1. `wizardGrowth`: this process's memory growth during the run.
qint64 stagingRun(UpgradeSession &session, Cluster &cluster, int nodes, PackageDelivery delivery,
                  const QStringList &agents, qint64 *wizardGrowth)
{
    const qint64 size = session.target().server->size;
    RunEngine engine(session.client());
    RunOptions options;
    options.journalPath = cluster.path(QStringLiteral("run-%1.json").arg(QDateTime::currentMSecsSinceEpoch()));
    options.stageConcurrency = nodes;
    options.delivery = delivery;
    options.portal = session.portal();
    engine.setOptions(options);
    engine.setEndpointLookup([&session](const QString &name) { return lookup(session, name); });
    bool staged = false;
    QObject::connect(&engine, &RunEngine::stateChanged, &engine, [&](RunState state) {
        if (state == RunState::Paused || state == RunState::Halted)
            staged = true;
    });
    if (Result prepared = engine.prepare(session.plan(), session.target()); !prepared) {
        print("prepare: %s\n", qPrintable(prepared.error()));
        return -1;
    }
    engine.pause(); // stop after staging: only staging is measured
    const qint64 selfBefore = statusKiB(selfPid(), "VmRSS:");
    const MemorySampler selfMemory({selfPid()});
    const CpuWindow cpu(agents);
    QElapsedTimer clock;
    clock.start();
    engine.start();
    // A real event loop, as in the wizard and the CLI: QTest::qWaitFor sleeps 10 ms between
    // rounds, which would stall every hand-over between threads.
    QEventLoop loop;
    QObject::connect(&engine, &RunEngine::stateChanged, &loop, [&loop](RunState state) {
        if (state == RunState::Paused || state == RunState::Halted)
            loop.quit();
    });
    QTimer::singleShot(1800000, &loop, &QEventLoop::quit);
    if (!staged)
        loop.exec();
    const qint64 ms = clock.elapsed();
    if (engine.state() != RunState::Paused) {
        print("staging ended as %s: %s\n", qPrintable(toString(engine.state())),
              qPrintable(engine.journal().stateSentence));
        return -1;
    }
    print("engine ×%d (checked when chosen, then download + SHA-256 on every agent): %lld ms, %.1f MiB/s\n", nodes,
          ms, double(size) * nodes / 1048576.0 / (double(ms) / 1000.0));
    print("  CPU: %s\n", qPrintable(cpu.report("wizard")));
    *wizardGrowth = selfMemory.peak(selfPid()) - selfBefore;
    print("wizard memory growth:       %lld KiB (RSS %lld → peak %lld KiB)\n", *wizardGrowth, selfBefore,
          selfMemory.peak(selfPid()));
    print("delivery %s: this process sent %lld bytes (%.2f copies of the package)\n",
          qPrintable(toString(delivery)), engine.deliveryBytesSent(), double(engine.deliveryBytesSent()) / double(size));
    engine.abort();
    (void)QTest::qWaitFor([&] { return engine.state() == RunState::Aborted; }, 10000);
    return ms;
}

double median(QList<double> values)
{
    std::sort(values.begin(), values.end());
    const qsizetype n = values.size();
    return n == 0 ? 0.0 : (n % 2 ? values.at(n / 2) : (values.at(n / 2 - 1) + values.at(n / 2)) / 2.0);
}

bool staging(int nodes, qint64 mib, PackageDelivery delivery, int rounds)
{
    print("== Staging %lld MiB to %d nodes, %d round(s) ==\n", mib, nodes, rounds);
    Cluster cluster;
    if (!cluster.up({QStringLiteral("--workers"), QString::number(nodes - 1)}))
        return false;
    QElapsedTimer clock;
    clock.start();
    const QString package = cluster.makePackage(QStringLiteral("server"), QStringLiteral("6.3.0-1500"),
                                                QStringLiteral("normal"),
                                                {QStringLiteral("--pad-bytes"), QString::number(mib * 1024 * 1024)});
    if (package.isEmpty())
        return false;
    const qint64 size = QFileInfo(package).size();
    print("package made in %lld ms (%lld bytes)\n", clock.elapsed(), size);

    UpgradeSession session;
    if (!connectAndDiscover(session, cluster.file()) || !choosePackage(session, package, Component::Server))
        return false;
    // Agents' memory before anything was sent: the growth below includes the baselines' serving.
    const QStringList agents = agentPids(cluster.directory());
    QHash<QString, qint64> agentBefore;
    for (const QString &pid : agents)
        agentBefore.insert(pid, statusKiB(pid, "VmRSS:"));
    const MemorySampler memory(agents);

    // curl over plain HTTP: the same file from this workstation's package server.
    qint64 curlPlainMs = -1;
    {
        PackageServer server;
        (void)server.listen();
        const QUrl url = *server.addFile(package);
        curlPlainMs = curlTimes(nodes, cluster.path(QStringLiteral("curl-XXXXXX")), {}, url);
        print("curl ×%d, HTTP from this workstation:   %lld ms, %.1f MiB/s\n", nodes, curlPlainMs,
              double(size) * nodes / 1048576.0 / (double(curlPlainMs) / 1000.0));
    }
    const bool throughPortal = delivery == PackageDelivery::Portal;
    // Each round: the HTTPS baseline, then a staging run, one right after the other, so a
    // change in the machine's load affects both. Rounds after the first stage a copy of
    // the package under another name, which no node holds yet.
    QList<double> ratios;
    qint64 wizardWorst = 0;
    for (int round = 1; round <= rounds; ++round) {
        if (rounds > 1)
            print("-- round %d of %d --\n", round, rounds);
        QString file = package;
        if (round > 1) {
            file = QFileInfo(package).path() + QStringLiteral("/server-6.3.0-1500-round%1.ftpkg").arg(round);
            if (!QFile::copy(package, file) || !choosePackage(session, file, Component::Server))
                return false;
        }
        const qint64 curlTlsMs = curlFromPortal(session, cluster, file, nodes, agents);
        qint64 wizardGrowth = 0;
        const qint64 ms = stagingRun(session, cluster, nodes, delivery, agents, &wizardGrowth);
        if (ms <= 0)
            return false;
        wizardWorst = std::max(wizardWorst, wizardGrowth);
        if (round == 1 && curlPlainMs > 0)
            print("staging against curl over HTTP:  %.1f %%%s\n", 100.0 * double(curlPlainMs) / double(ms),
                  throughPortal ? " (no TLS, token or hash: for reference)" : " (budget 80 %)");
        if (curlTlsMs > 0) {
            ratios.append(100.0 * double(curlTlsMs) / double(ms));
            print("staging against curl over HTTPS: %.1f %%%s\n", ratios.constLast(),
                  throughPortal ? " (budget 80 %: what the nodes fetch, as they fetch it)" : "");
        }
    }
    if (ratios.size() > 1) {
        const auto [least, most] = std::minmax_element(ratios.cbegin(), ratios.cend());
        print("staging against curl over HTTPS, median of %lld rounds: %.1f %% (%.1f … %.1f %%)%s\n",
              qint64(ratios.size()), median(ratios), *least, *most, throughPortal ? " (budget 80 %)" : "");
    }
    print("largest wizard memory growth in a staging run: %lld KiB (budget 65536 KiB)\n", wizardWorst);
    qint64 worst = 0;
    QStringList growths; // in cluster.json's order: the portal first
    for (const QString &pid : agents) {
        worst = std::max(worst, memory.peak(pid) - agentBefore.value(pid));
        growths.append(QString::number(memory.peak(pid) - agentBefore.value(pid)));
    }
    print("agent memory growth (portal first): %s KiB\n", qPrintable(growths.join(QStringLiteral(", "))));
    print("largest agent memory growth: %lld KiB (budget 65536 KiB)\n", worst);
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOptions({{QStringLiteral("workers"), QStringLiteral("Workers of the rolling run."), QStringLiteral("n"), QStringLiteral("4")},
                       {QStringLiteral("slow-seconds"), QStringLiteral("Installer time per step."), QStringLiteral("s"), QStringLiteral("5")},
                       {QStringLiteral("stage-nodes"), QStringLiteral("Nodes staging."), QStringLiteral("n"), QStringLiteral("8")},
                       {QStringLiteral("stage-mib"), QStringLiteral("Package size."), QStringLiteral("MiB"), QStringLiteral("1024")},
                       {QStringLiteral("delivery"), QStringLiteral("Staging through portal or workstation."), QStringLiteral("how"), QStringLiteral("portal")},
                       {QStringLiteral("rounds"), QStringLiteral("Staging rounds (HTTPS baseline, then staging, each time)."), QStringLiteral("n"), QStringLiteral("1")},
                       {QStringLiteral("skip-rolling"), QStringLiteral("No rolling run.")},
                       {QStringLiteral("skip-staging"), QStringLiteral("No staging run.")}});
    parser.addHelpOption();
    parser.process(app);
    bool ok = true;
    if (!parser.isSet(QStringLiteral("skip-rolling")))
        ok = rolling(parser.value(QStringLiteral("workers")).toInt(), parser.value(QStringLiteral("slow-seconds")).toInt()) && ok;
    if (!parser.isSet(QStringLiteral("skip-staging")))
        ok = staging(parser.value(QStringLiteral("stage-nodes")).toInt(), parser.value(QStringLiteral("stage-mib")).toLongLong(),
                     parsePackageDelivery(parser.value(QStringLiteral("delivery"))).value_or(PackageDelivery::Portal),
                     std::max(1, parser.value(QStringLiteral("rounds")).toInt())) && ok;
    return ok ? 0 : 1;
}
