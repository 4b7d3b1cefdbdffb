#include "widgets/packagepicker.h"

#include "packages/packageinspection.h"
#include "session/upgradesession.h"

#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>

namespace ft::ui {

PackagePicker::PackagePicker(UpgradeSession *session, Component slot, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_slot(slot)
{
    setObjectName(QStringLiteral("packagePicker_%1").arg(toString(slot)));
    m_path = new QLineEdit;
    m_path->setObjectName(QStringLiteral("packagePath_%1").arg(toString(slot)));
    m_path->setPlaceholderText(slot == Component::Server ? tr("Required: the new server package")
                                                         : tr("Optional"));
    m_path->setClearButtonEnabled(true);
    m_browse = new QPushButton(tr("Browse…"));
    m_browse->setObjectName(QStringLiteral("browse_%1").arg(toString(slot)));
    m_info = new QLabel;
    m_info->setObjectName(QStringLiteral("packageInfo_%1").arg(toString(slot)));
    m_info->setWordWrap(true);
    m_info->setTextFormat(Qt::RichText);

    auto *row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_path, 1);
    row->addWidget(m_browse);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(row);
    layout->addWidget(m_info);

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

void PackagePicker::browse()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Choose the %1 package").arg(displayName(m_slot)), m_path->text(),
        tr("FlowTraq upgrade packages (*.ftpkg);;All files (*)"));
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
    if (path.isEmpty()) {
        m_info->clear();
        m_session->clearPackage(m_slot);
        Q_EMIT stateChanged();
        return;
    }
    m_info->setText(tr("Checking the package…"));
    auto *job = new PackageInspectJob(this);
    job->setPath(path);
    job->setSlot(m_slot);
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
        m_session->clearPackage(m_slot);
    } else {
        const PackageChoice &choice = job->choice();
        m_info->setText(tr("%1 <b>%2</b> for %3, %4, checksums verified.")
                            .arg(displayName(m_slot).toHtmlEscaped(), choice.version.toString(),
                                 choice.os == QLatin1String("any") ? tr("Linux and Windows")
                                                                   : choice.os,
                                 QLocale().formattedDataSize(choice.size)));
        m_session->setPackage(m_slot, choice);
    }
    Q_EMIT stateChanged();
}

} // namespace ft::ui
