#include "widgets/diffview.h"

#include <QFontDatabase>
#include <QSyntaxHighlighter>

namespace ft::ui {

class DiffView::Highlighter : public QSyntaxHighlighter
{
public:
    explicit Highlighter(QTextDocument *document)
        : QSyntaxHighlighter(document)
    {
        m_removed.setForeground(QColor(0x82, 0x07, 0x1e));
        m_removed.setBackground(QColor(0xff, 0xeb, 0xe9));
        m_added.setForeground(QColor(0x11, 0x63, 0x29));
        m_added.setBackground(QColor(0xe6, 0xff, 0xec));
        m_hunk.setForeground(QColor(0x05, 0x50, 0xae));
        m_hunk.setBackground(QColor(0xdd, 0xf4, 0xff));
        m_label.setFontWeight(QFont::Bold);
        m_note.setForeground(QColor(0x6e, 0x77, 0x81));
        m_note.setFontItalic(true);
    }

    void setEnabled(bool enabled) { m_enabled = enabled; }

protected:
    void highlightBlock(const QString &text) override
    {
        // Block state 1: inside the hunks, where "--- x" is a removed line "-- x" and
        // not a file label.
        const bool inHunks = previousBlockState() == 1 || text.startsWith(QLatin1String("@@"));
        setCurrentBlockState(inHunks ? 1 : 0);
        if (!m_enabled || text.isEmpty())
            return;
        if (!inHunks && (text.startsWith(QLatin1String("--- ")) || text.startsWith(QLatin1String("+++ "))))
            setFormat(0, int(text.size()), m_label);
        else if (text.startsWith(QLatin1String("@@")))
            setFormat(0, int(text.size()), m_hunk);
        else if (text.at(0) == QLatin1Char('-'))
            setFormat(0, int(text.size()), m_removed);
        else if (text.at(0) == QLatin1Char('+'))
            setFormat(0, int(text.size()), m_added);
        else if (text.at(0) == QLatin1Char('\\'))
            setFormat(0, int(text.size()), m_note);
    }

private:
    QTextCharFormat m_removed;
    QTextCharFormat m_added;
    QTextCharFormat m_hunk;
    QTextCharFormat m_label;
    QTextCharFormat m_note;
    bool m_enabled = false;
};

DiffView::DiffView(QWidget *parent)
    : QPlainTextEdit(parent)
{
    setReadOnly(true);
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_highlighter = new Highlighter(document());
}

void DiffView::setDiff(const QString &unifiedDiff)
{
    m_showsDiff = true;
    m_highlighter->setEnabled(true);
    QString text = unifiedDiff;
    if (text.endsWith(QLatin1Char('\n')))
        text.chop(1); // no empty last block
    setPlainText(text);
}

void DiffView::showMessage(const QString &message)
{
    m_showsDiff = false;
    m_highlighter->setEnabled(false);
    setPlainText(message);
}

} // namespace ft::ui
