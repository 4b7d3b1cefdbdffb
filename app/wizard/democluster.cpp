#include "democluster.h"

#include "pages/connectpage.h"
#include "support/logging.h"
#include "widgets/packagepicker.h"
#include "pages/packagespage.h"
#include "session/sandboxcluster.h"
#include "agentlink/trustedcertificates.h"
#include "plan/durationhistory.h"
#include "session/upgradesession.h"
#include "pages/upgradewizard.h"

#include <QDateTime>
#include <QWizardPage>
#include <QDir>
#include <QFile>

#include <spdlog/spdlog.h>

namespace ft {

namespace {

const char kDemoVersion[] = "6.3.0-1500";

// Installers in the demo take a visible time, as real ones do (seconds each).
int slowSeconds(Component component)
{
    switch (component) {
    case Component::Server: return 25;
    case Component::Nbi: return 15;
    case Component::WebUi: return 10;
    }
    return 10;
}

// What the portal's administrators changed in the demo's Web UI, so the customizations
// page has something to show: a site colour, a banner in the start page, a script tweak.
struct DemoCustomization
{
    const char *path;
    const char *appended;
};
const DemoCustomization kCustomizations[] = {
    {"css/site.css", "\n/* ACME NOC: our colours */\n.navbar { background: #003366; }\n"},
    {"index.html", "\n<!-- ACME NOC: maintenance banner -->\n<div class=\"banner\">Call the NOC on x4100 for help.</div>\n"},
    {"js/app.js", "\n// ACME NOC: open the flows dashboard first\nwindow.FT_START_VIEW = 'flows';\n"},
};

void customizeWebUi(const QString &installDir)
{
    for (const DemoCustomization &change : kCustomizations) {
        QFile file(QDir(installDir).filePath(QStringLiteral("webui/") + QLatin1String(change.path)));
        if (!file.open(QIODevice::Append))
            spdlog::warn("Demo: cannot customize {}: {}", file.fileName().toStdString(),
                         file.errorString().toStdString());
        else
            file.write(change.appended);
    }
}

// Earlier runs on "this" cluster, so elapsed-against-estimate means something in the
// demo: three runs per node and component, close to what the demo's installers take.
void seedHistory(DurationHistory &history, const QString &clusterId, const SandboxClusterFile &cluster)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (int run = 0; run < 3; ++run) {
        for (const SandboxNode &node : cluster.nodes) {
            QList<Component> components{Component::Server};
            if (node.role != NodeRole::Worker)
                components << Component::Nbi << Component::WebUi;
            for (Component component : components) {
                MeasuredStep step;
                step.clusterId = clusterId;
                step.node = node.name;
                step.os = node.os;
                step.component = component;
                const qint64 install = qint64(slowSeconds(component)) * 1000 + run * 1500;
                step.phases = {component == Component::WebUi ? 0 : 3000 + run * 400, install,
                               component == Component::WebUi ? 0 : 4000 + run * 300, 1500};
                step.recordedAt = now.addDays(-30 * (3 - run));
                if (Result recorded = history.record(step); !recorded) {
                    spdlog::warn("Demo: the seeded history was not written: {}", recorded.error().toStdString());
                    return;
                }
            }
        }
    }
}

QString packagePath(const QString &directory, Component component)
{
    return QDir(directory).filePath(QStringLiteral("packages/%1-%2.ftpkg")
                                        .arg(toString(component), QLatin1String(kDemoVersion)));
}

} // namespace

DemoCluster::DemoCluster(UpgradeSession *session, ui::UpgradeWizard *wizard, QObject *parent)
    : QObject(parent)
    , m_session(session)
    , m_wizard(wizard)
    , m_directory(QDir::temp().filePath(QStringLiteral("ftupgrade-demo-XXXXXX")))
{}

DemoCluster::~DemoCluster()
{
    stop();
}

void DemoCluster::start()
{
    if (!m_directory.isValid()) {
        Q_EMIT failed(tr("Cannot create a temporary folder for the demo cluster: %1")
                          .arg(m_directory.errorString()));
        return;
    }
    QDir(m_directory.path()).mkpath(QStringLiteral("packages"));
    auto *job = new SandboxLaunchJob(this);
    job->setDirectory(QDir(m_directory.path()).filePath(QStringLiteral("cluster")));
    job->setArguments({QStringLiteral("--workers"), QStringLiteral("5"), QStringLiteral("--windows"),
                       QStringLiteral("1"), QStringLiteral("--nbi"), QStringLiteral("--flows"),
                       QStringLiteral("w1=200"), QStringLiteral("--flows"), QStringLiteral("w2=80")});
    for (Component component : {Component::Server, Component::Nbi, Component::WebUi}) {
        job->addPackage({QStringLiteral("--version"), QLatin1String(kDemoVersion),
                         QStringLiteral("--component"), toString(component),
                         QStringLiteral("--mode"), QStringLiteral("slow"), QStringLiteral("--slow-seconds"),
                         QString::number(slowSeconds(component)), QStringLiteral("-o"),
                         packagePath(m_directory.path(), component)});
    }
    connect(job, &SandboxLaunchJob::finished, this, &DemoCluster::onLaunched);
    // Say what happens while the six demo nodes start, instead of an empty page.
    if (QWizardPage *connectPage = m_wizard->page(ui::UpgradeWizard::ConnectPageId)) {
        m_connectSubTitle = connectPage->subTitle();
        connectPage->setSubTitle(tr("Starting the demo cluster on this computer: a portal and five "
                                    "workers, each with its agent. This takes a few seconds…"));
    }
    m_started = true;
    spdlog::info("Starting the demo cluster in {}", m_directory.path().toStdString());
    job->start();
}

void DemoCluster::onLaunched(SandboxLaunchJob *job)
{
    job->deleteLater();
    if (QWizardPage *connectPage = m_wizard->page(ui::UpgradeWizard::ConnectPageId))
        connectPage->setSubTitle(job->hasError() ? tr("The demo cluster did not start.") : m_connectSubTitle);
    if (job->hasError()) {
        spdlog::error("The demo cluster did not start: {}", job->errorString().toStdString());
        Q_EMIT failed(job->errorString());
        return;
    }
    const SandboxClusterFile &cluster = job->cluster();
    for (const SandboxNode &node : cluster.nodes) {
        if (node.agentUrl.isValid())
            m_session->addKnownFingerprint(node.agentUrl, node.agentFingerprint);
    }
    const SandboxNode *portal = cluster.portal();
    if (!portal || !portal->agentUrl.isValid()) {
        Q_EMIT failed(tr("The demo cluster has no portal agent."));
        return;
    }
    customizeWebUi(portal->installDir);
    // The demo's durations live in the demo's folder, never in the administrator's own
    // history; seeded so the estimates are "measured" ones.
    if (Result opened = m_session->openHistory(QDir(m_directory.path()).filePath(QStringLiteral("history.sqlite")));
        opened)
        seedHistory(m_session->history(), TrustedCertificates::addressOf(portal->agentUrl), cluster);
    else
        spdlog::warn("Demo: no duration history: {}", opened.error().toStdString());
    auto *connectPage = qobject_cast<ui::ConnectPage *>(m_wizard->page(ui::UpgradeWizard::ConnectPageId));
    connectPage->preset(TrustedCertificates::addressOf(portal->agentUrl), cluster.token);
    if (cluster.webApi.isConfigured())
        connectPage->presetWebApi(cluster.webApi);
    auto *packagesPage = qobject_cast<ui::PackagesPage *>(m_wizard->page(ui::UpgradeWizard::PackagesPageId));
    const Component slots[] = {Component::Server, Component::Nbi, Component::WebUi};
    for (int slot = 0; slot < 3; ++slot)
        packagesPage->picker(slot)->setPath(packagePath(m_directory.path(), slots[slot]));
    spdlog::info("Demo cluster ready: portal agent at {}", portal->agentUrl.toString().toStdString());
    Q_EMIT ready();
}

void DemoCluster::stop()
{
    if (!m_started)
        return;
    m_started = false;
    const QString cluster = QDir(m_directory.path()).filePath(QStringLiteral("cluster"));
    if (!QFile::exists(QDir(cluster).filePath(QStringLiteral("cluster.json"))))
        return;
    if (Result stopped = stopSandboxCluster(cluster); !stopped)
        spdlog::error("{}", stopped.error().toStdString());
}

} // namespace ft
