#include "widgets/packagepicker.h"

#include "packages/installcommand.h"
#include "packages/nodeinstallcommands.h"
#include "packages/packageinspection.h"
#include "session/upgradesession.h"

#include <QFileInfo>
#include <QProcess>
#include <QSettings>

#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

// "portal, w1, w2", or the first few and how many more (a cluster may have hundreds).
QString nodeListText(const QStringList &nodes)
{
    constexpr int kShown = 6;
    if (nodes.size() <= kShown + 1)
        return nodes.join(QStringLiteral(", "));
    return PackagePicker::tr("%1 and %n more", nullptr, int(nodes.size() - kShown))
        .arg(nodes.mid(0, kShown).join(QStringLiteral(", ")));
}

} // namespace

PackagePicker::PackagePicker(UpgradeSession *session, Component slot, int index, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_slot(slot)
    , m_index(index)
{
    // Object names: packagePath_server, and packagePath_server2 for the second package.
    const QString name = toString(slot) + (index > 0 ? QString::number(index + 1) : QString());
    setObjectName(QStringLiteral("packagePicker_%1").arg(name));
    m_path = new QLineEdit;
    m_path->setObjectName(QStringLiteral("packagePath_%1").arg(name));
    m_path->setPlaceholderText(index > 0 ? tr("The package for the nodes of the other system")
                               : slot == Component::Server ? tr("Required: the new server package")
                                                           : tr("Optional"));
    m_path->setClearButtonEnabled(true);
    m_browse = new QPushButton(tr("Browse…"));
    m_browse->setObjectName(QStringLiteral("browse_%1").arg(name));
    m_info = new QLabel;
    m_info->setObjectName(QStringLiteral("packageInfo_%1").arg(name));
    m_info->setWordWrap(true);
    m_info->setTextFormat(Qt::RichText);

    // Asked only when the file and its name say nothing about the version.
    m_version = new QLineEdit;
    m_version->setObjectName(QStringLiteral("packageVersion_%1").arg(name));
    m_version->setPlaceholderText(tr("e.g. 6.3.0-1500"));
    m_versionRow = new QWidget;
    auto *versionLayout = new QHBoxLayout(m_versionRow);
    versionLayout->setContentsMargins(0, 0, 0, 0);
    versionLayout->addWidget(new QLabel(tr("Version it installs:")));
    versionLayout->addWidget(m_version, 1);
    m_versionRow->hide();

    // The vendor does not document the silent switches of its .exe and Linux install
    // binaries: the administrator types them once; they are remembered per file pattern.
    m_switches = new QLineEdit;
    m_switches->setObjectName(QStringLiteral("packageSwitches_%1").arg(name));
    m_switches->setPlaceholderText(tr("the installer's silent-install arguments, e.g. --unattended"));
    m_switchesRow = new QWidget;
    auto *switchesLayout = new QHBoxLayout(m_switchesRow);
    switchesLayout->setContentsMargins(0, 0, 0, 0);
    switchesLayout->addWidget(new QLabel(tr("Silent-install arguments:")));
    switchesLayout->addWidget(m_switches, 1);
    m_switchesRow->hide();

    auto *row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_path, 1);
    row->addWidget(m_browse);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(row);
    layout->addWidget(m_versionRow);
    layout->addWidget(m_switchesRow);
    layout->addWidget(m_info);

    connect(m_version, &QLineEdit::editingFinished, this, [this] {
        m_inspectedPath.clear(); // the same file, read again with the typed version
        inspect();
    });
    connect(m_switches, &QLineEdit::editingFinished, this, &PackagePicker::onSwitchesEdited);

    connect(m_browse, &QPushButton::clicked, this, &PackagePicker::browse);
    connect(m_path, &QLineEdit::editingFinished, this, &PackagePicker::inspect);
    connect(m_path, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (text.isEmpty())
            inspect();
    });
}

void PackagePicker::setPath(const QString &path)
{
    m_path->setText(QDir::toNativeSeparators(path));
    inspect();
}

void PackagePicker::setTypedVersion(const QString &version)
{
    m_version->setText(version);
    m_inspectedPath.clear();
    inspect();
}

void PackagePicker::setSwitches(const QString &switches)
{
    m_switches->setText(switches);
    onSwitchesEdited();
}

void PackagePicker::browse()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Choose the %1 package").arg(displayName(m_slot)), m_path->text(),
        tr("FlowTraq installers (%1);;All files (*)").arg(acceptedPackagePatterns().join(QLatin1Char(' '))));
    if (!path.isEmpty())
        setPath(path);
}

void PackagePicker::inspect()
{
    const QString path = QDir::fromNativeSeparators(m_path->text().trimmed());
    // Leaving the field without changing it must not start over (and must not
    // disable Next under the administrator's click).
    if (path == m_inspectedPath)
        return;
    m_inspectedPath = path;
    if (m_job) {
        m_job->disconnect(this);
        m_job = nullptr;
    }
    m_error.clear();
    m_choice.reset();
    if (path.isEmpty()) {
        m_info->clear();
        m_versionRow->hide();
        m_switchesRow->hide();
        m_session->clearPackage(m_slot, m_index);
        Q_EMIT stateChanged();
        return;
    }
    m_info->setText(tr("Checking the package…"));
    auto *job = new PackageInspectJob(this);
    job->setPath(path);
    job->setSlot(m_slot);
    job->setTypedFacts({m_version->text().trimmed(), std::nullopt});
    connect(job, &PackageInspectJob::finished, this, &PackagePicker::onInspected);
    m_job = job;
    job->start();
    Q_EMIT stateChanged();
}

void PackagePicker::onInspected(PackageInspectJob *job)
{
    job->deleteLater();
    if (job != m_job)
        return;
    m_job = nullptr;
    if (job->hasError()) {
        m_error = job->errorString();
        m_info->setText(QStringLiteral("<span style='color:#c62828'>%1</span>")
                            .arg(m_error.toHtmlEscaped()));
        // Typing the version helps only when nothing else names it.
        m_versionRow->setVisible(job->needsTypedVersion() || !m_version->text().trimmed().isEmpty());
        m_switchesRow->hide();
        m_session->clearPackage(m_slot, m_index);
        Q_EMIT stateChanged();
        return;
    }
    m_choice = job->choice();
    m_versionRow->setVisible(m_choice->versionSource == tr("typed by you"));
    const auto format = parsePackageFormat(m_choice->format);
    const bool needsSwitches = format && needsTypedSwitches(*format);
    m_switchesRow->setVisible(needsSwitches);
    if (needsSwitches && m_switches->text().trimmed().isEmpty()) {
        QSettings settings;
        m_switches->setText(InstallerSwitchMemory(&settings).recall(m_choice->fileName()));
    }
    onSwitchesEdited();
}

void PackagePicker::onSwitchesEdited()
{
    if (!m_choice)
        return;
    const auto format = parsePackageFormat(m_choice->format);
    if (format && needsTypedSwitches(*format)) {
        const QString typed = m_switches->text().trimmed();
        m_choice->installerArguments = QProcess::splitCommand(typed);
        if (typed.isEmpty()) {
            m_error = tr("Type the silent-install arguments of %1: the vendor does not document them, and the "
                         "wizard does not guess.")
                          .arg(m_choice->fileName());
            showChoice();
            m_session->clearPackage(m_slot, m_index);
            Q_EMIT stateChanged();
            return;
        }
        QSettings settings;
        InstallerSwitchMemory(&settings).remember(m_choice->fileName(), typed);
    }
    m_error.clear();
    showChoice();
    m_session->setPackage(m_slot, *m_choice, m_index);
    Q_EMIT stateChanged();
}

void PackagePicker::showChoice()
{
    const PackageChoice &choice = *m_choice;
    const auto format = parsePackageFormat(choice.format);
    QString text = tr("%1 <b>%2</b> for %3, %4, %5.")
                       .arg(displayName(m_slot).toHtmlEscaped(), choice.version.toString(),
                            choice.os == QLatin1String("any") ? tr("Linux and Windows")
                                                              : displayName(*parseOsKind(choice.os)),
                            QLocale().formattedDataSize(choice.size),
                            format ? displayName(*format).toHtmlEscaped() : choice.format);
    // Where each fact came from, so the administrator can judge it.
    text += QStringLiteral("<br>") + tr("Version %1; component %2.")
                                          .arg(choice.versionSource.toHtmlEscaped(),
                                               choice.componentSource.toHtmlEscaped());
    if (!choice.productName.isEmpty()) {
        text += QLatin1Char(' ') + tr("It names itself \"%1\"%2.")
                                       .arg(choice.productName.toHtmlEscaped(),
                                            choice.manufacturer.isEmpty()
                                                ? QString()
                                                : tr(" by %1").arg(choice.manufacturer.toHtmlEscaped()));
    }
    if (format && *format != PackageFormat::FtPkg) {
        // What the nodes will really run: each agent's configured command (agent.conf
        // [installers]), per node where they differ.
        const QList<NodeInstallCommand> commands = installCommandsFor(choice, m_slot, m_session->nodes());
        if (commands.isEmpty()) {
            InstallCommandValues values;
            values.package = choice.fileName();
            values.install = tr("<install folder>");
            values.component = toString(m_slot);
            values.log = tr("<log>");
            values.switches = choice.installerArguments;
            if (const auto command = expandInstallCommand(defaultInstallCommand(*format, false), values)) {
                text += QStringLiteral("<br>") + tr("Each node runs: <code>%1</code> (the default for this format; "
                                                    "an agent's agent.conf may change it).")
                                                     .arg(command->join(QLatin1Char(' ')).toHtmlEscaped());
            }
        } else if (commands.size() == 1) {
            text += QStringLiteral("<br>")
                    + (commands.first().fromAgent
                           ? tr("Each node that gets it (%1) runs: <code>%2</code> (as its agent is configured).")
                           : tr("Each node that gets it (%1) runs: <code>%2</code> (the default for this format; the "
                                "agents did not say what they run)."))
                          .arg(nodeListText(commands.first().nodes).toHtmlEscaped(),
                               commands.first().command.toHtmlEscaped());
        } else {
            for (const NodeInstallCommand &entry : commands) {
                text += QStringLiteral("<br>")
                        + tr("On %1: <code>%2</code>%3")
                              .arg(nodeListText(entry.nodes).toHtmlEscaped(), entry.command.toHtmlEscaped(),
                                   entry.fromAgent ? tr(" (as its agent is configured)")
                                                   : tr(" (the format's default; the agent did not say)"));
            }
        }
        text += QStringLiteral("<br>") + tr("SHA-256 %1…").arg(choice.sha256.left(16));
    } else {
        text += QLatin1Char(' ') + tr("Checksums verified.");
    }
    if (!m_error.isEmpty())
        text += QStringLiteral("<br><span style='color:#c62828'>%1</span>").arg(m_error.toHtmlEscaped());
    m_info->setText(text);
}

} // namespace ft::ui
