// Tiny DOM helpers: elements are built, never parsed from strings (no HTML injection).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function lang() {
  return { 'zh-Hant': 'zh_Hant', 'zh-Hans': 'zh_Hans' }[document.documentElement.lang] ?? 'en';
}

export function label(labels) {
  return labels?.[lang()] || labels?.zh_Hant || '';  // an empty translation reads in Traditional Chinese
}

export function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? '');
}
