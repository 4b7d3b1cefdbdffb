#include "democluster.h"

#include "pages/connectpage.h"
#include "support/logging.h"
#include "widgets/packagepicker.h"
#include "pages/packagespage.h"
#include "session/sandboxcluster.h"
#include "agentlink/trustedcertificates.h"
#include "session/upgradesession.h"
#include "pages/upgradewizard.h"

#include <QDir>

#include <spdlog/spdlog.h>

namespace ft {

namespace {

const char kDemoVersion[] = "6.3.0-1500";

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
                         QStringLiteral("--mode"), QStringLiteral("normal"), QStringLiteral("-o"),
                         packagePath(m_directory.path(), component)});
    }
    connect(job, &SandboxLaunchJob::finished, this, &DemoCluster::onLaunched);
    m_started = true;
    spdlog::info("Starting the demo cluster in {}", m_directory.path().toStdString());
    job->start();
}

void DemoCluster::onLaunched(SandboxLaunchJob *job)
{
    job->deleteLater();
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
