#include "templatecache.h"

#include <algorithm>

namespace ft::flow {

int FlowTemplate::fixedLength() const
{
    int total = 0;
    for (const quint16 length : fieldLengths) {
        if (length != kVariableLength)
            total += length;
    }
    return total;
}

int FlowTemplate::variableFieldCount() const
{
    return int(std::count(fieldLengths.cbegin(), fieldLengths.cend(), kVariableLength));
}

size_t qHash(const ExporterKey &key, size_t seed)
{
    return qHashMulti(seed, key.version, key.address, key.sourceId);
}

TemplateCache::TemplateCache(int maxExporters)
    : m_maxExporters(std::max(1, maxExporters))
{ }

TemplateSet TemplateCache::templates(const ExporterKey &key)
{
    const auto it = m_exporters.find(key);
    if (it == m_exporters.end())
        return {};
    it->lastUsed = ++m_clock;
    return it->templates;
}

void TemplateCache::setTemplates(const ExporterKey &key, TemplateSet templates)
{
    // An exporter that defines far more templates than any real one does (they use a
    // handful) loses some of them: bounded memory matters more than its garbage.
    while (templates.size() > kMaxTemplatesPerExporter)
        templates.erase(templates.begin());

    auto it = m_exporters.find(key);
    if (it == m_exporters.end()) {
        if (templates.isEmpty())
            return;
        while (m_exporters.size() >= m_maxExporters)
            evictLeastRecentlyUsed();
        it = m_exporters.insert(key, {});
    }
    it->templates = std::move(templates);
    it->lastUsed = ++m_clock;
}

void TemplateCache::evictLeastRecentlyUsed()
{
    auto oldest = m_exporters.begin();
    for (auto it = m_exporters.begin(); it != m_exporters.end(); ++it) {
        if (it->lastUsed < oldest->lastUsed)
            oldest = it;
    }
    if (oldest != m_exporters.end())
        m_exporters.erase(oldest);
}

} // namespace ft::flow
