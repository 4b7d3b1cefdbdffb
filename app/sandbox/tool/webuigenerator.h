#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace ft::sandbox {

// A deterministic, realistic Web UI file set: html, js, css, json, svg and png files of
// varying sizes in subfolders. The same (version, file count) always gives the same
// bytes, so `init` and the Web UI package of a version agree file for file; between
// versions some files change in a few lines, one file is added and one removed, so an
// upgrade really changes the tree (and customizations can be merged line by line).
class WebUiGenerator
{
public:
    WebUiGenerator(QString version, int fileCount);

    // Paths relative to webui/, sorted; VERSION is not among them.
    QStringList paths() const;
    QByteArray content(const QString &path) const;

private:
    QString m_version;
    int m_fileCount;
};

} // namespace ft::sandbox
