#include "widgets/progresspane.h"

#include "widgets/statusicons.h"

#include <QCoreApplication>
#include <QGridLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QToolButton>

namespace ft::ui {

namespace {

QString clock(qint64 ms)
{
    const qint64 seconds = std::max<qint64>(0, ms / 1000);
    if (seconds >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(seconds / 3600)
            .arg((seconds % 3600) / 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

QString phaseName(const QString &phase)
{
    static const QHash<QString, const char *> names{
        {QStringLiteral("queued"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Waiting")},
        {QStringLiteral("stopping"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Stopping the service")},
        {QStringLiteral("installing"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Installing")},
        {QStringLiteral("starting"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Starting the service")},
        {QStringLiteral("replaying"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Replaying the flows kept during the outage")},
        {QStringLiteral("checking"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Checking the version")},
        {QStringLiteral("flows"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Waiting for flows to arrive")},
        {QStringLiteral("done"), QT_TRANSLATE_NOOP("ft::ui::ProgressPane", "Done")},
    };
    const auto it = names.constFind(phase);
    return it == names.cend() ? phase : QCoreApplication::translate("ft::ui::ProgressPane", it.value());
}

} // namespace

QString elapsedAgainstEstimate(qint64 elapsedMs, qint64 estimateMs)
{
    return QCoreApplication::translate("ft::ui::ProgressPane", "%1 / ~%2")
        .arg(clock(elapsedMs), clock(estimateMs));
}

ProgressPane::ProgressPane(const RunStepRecord &step, QWidget *parent)
    : QFrame(parent)
{
    setObjectName(QStringLiteral("pane_%1_%2").arg(step.step.node, toString(step.step.component)));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);

    m_icon = new QLabel;
    m_icon->setFixedSize(18, 18);
    m_title = new QLabel(tr("<b>%1</b> — %2  <span style='color:gray'>%3 → %4</span>")
                             .arg(step.step.node.toHtmlEscaped(), displayName(step.step.component),
                                  step.step.fromVersion.toString(), step.step.toVersion.toString()));
    m_phase = new QLabel;
    m_phase->setObjectName(QStringLiteral("phase"));
    m_time = new QLabel;
    m_time->setObjectName(QStringLiteral("elapsed"));
    m_time->setToolTip(tr("Elapsed against the estimate (%1).").arg(step.step.estimate.basis));
    m_bar = new QProgressBar;
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_bar->setMaximumHeight(10);
    m_warning = new QLabel;
    m_warning->setObjectName(QStringLiteral("slowWarning"));
    m_warning->setWordWrap(true);
    m_warning->setStyleSheet(QStringLiteral("color:#9a6700"));
    m_warning->hide();
    m_toggle = new QToolButton;
    m_toggle->setObjectName(QStringLiteral("toggleLog"));
    m_toggle->setText(tr("Log"));
    m_toggle->setCheckable(true);
    m_toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_toggle->setArrowType(Qt::RightArrow);
    m_toggle->setAutoRaise(true);
    m_log = new QPlainTextEdit;
    m_log->setObjectName(QStringLiteral("log"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(kMaxLogLines);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFixedHeight(120);
    QFont mono = m_log->font();
    mono.setStyleHint(QFont::TypeWriter);
    mono.setFamily(QStringLiteral("monospace"));
    m_log->setFont(mono);
    m_log->hide();

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(8, 4, 8, 4);
    grid->setVerticalSpacing(2);
    grid->addWidget(m_icon, 0, 0);
    grid->addWidget(m_title, 0, 1);
    grid->addWidget(m_phase, 0, 2);
    grid->addWidget(m_time, 0, 3);
    grid->addWidget(m_toggle, 0, 4);
    grid->addWidget(m_bar, 1, 1, 1, 3);
    grid->addWidget(m_warning, 2, 1, 1, 4);
    grid->addWidget(m_log, 3, 0, 1, 5);
    grid->setColumnStretch(1, 1);

    connect(m_toggle, &QToolButton::toggled, this, &ProgressPane::setLogExpanded);

    RunStepProgress initial;
    initial.state = step.state;
    initial.estimateMs = step.step.estimate.totalMs;
    setProgress(initial);
}

void ProgressPane::setProgress(const RunStepProgress &progress)
{
    const bool stateChanged = progress.state != m_state;
    m_state = progress.state;
    QString phase = progress.phase.isEmpty() ? displayName(progress.state) : phaseName(progress.phase);
    if (isTerminal(progress.state))
        phase = displayName(progress.state);
    m_phase->setText(phase);
    m_time->setText(progress.state == RunStepState::Pending
                        ? tr("~%1").arg(elapsedAgainstEstimate(0, progress.estimateMs).section(QLatin1Char('~'), 1))
                        : elapsedAgainstEstimate(progress.elapsedMs, progress.estimateMs));
    m_bar->setValue(isTerminal(progress.state) ? 1000 : int(progress.progress * 1000));
    if (!progress.slow && m_warning->isVisible() && isTerminal(progress.state))
        m_warning->hide();
    if (stateChanged)
        applyStateStyle();
}

void ProgressPane::setSlow(const QString &sentence)
{
    m_warning->setText(sentence);
    m_warning->setVisible(!sentence.isEmpty());
}

void ProgressPane::applyStateStyle()
{
    QColor tint;
    QIcon icon;
    switch (m_state) {
    case RunStepState::Pending:
        icon = iconFor(NodeHealth::Waiting);
        break;
    case RunStepState::Starting:
    case RunStepState::Running:
        icon = informationIcon();
        tint = QColor(0xe8, 0xf0, 0xfb);
        break;
    case RunStepState::Succeeded:
    case RunStepState::AlreadyCurrent:
        icon = okIcon();
        tint = QColor(0xea, 0xf6, 0xec);
        break;
    case RunStepState::Failed:
        icon = errorIcon();
        tint = QColor(0xfd, 0xec, 0xea);
        setLogExpanded(true); // the log says what went wrong
        break;
    case RunStepState::Skipped:
        icon = warningIcon();
        tint = QColor(0xfd, 0xf6, 0xe3);
        break;
    }
    m_icon->setPixmap(icon.pixmap(16, 16));
    QPalette pal = palette();
    pal.setColor(QPalette::Window, tint.isValid() ? tint : QPalette().color(QPalette::Window));
    setPalette(pal);
}

void ProgressPane::queueLog(const QStringList &lines)
{
    m_pending += lines;
    // Only the newest lines can ever be shown.
    if (m_pending.size() > kMaxLogLines)
        m_pending.remove(0, m_pending.size() - kMaxLogLines);
}

void ProgressPane::flush()
{
    if (m_pending.isEmpty())
        return;
    m_log->appendPlainText(m_pending.join(QLatin1Char('\n')));
    m_pending.clear();
}

bool ProgressPane::isLogExpanded() const
{
    return m_toggle->isChecked();
}

void ProgressPane::setLogExpanded(bool expanded)
{
    m_log->setVisible(expanded);
    m_toggle->setArrowType(expanded ? Qt::DownArrow : Qt::RightArrow);
    if (m_toggle->isChecked() != expanded)
        m_toggle->setChecked(expanded);
}

int ProgressPane::logLineCount() const
{
    return m_log->document()->blockCount();
}

} // namespace ft::ui
