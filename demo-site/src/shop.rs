//! What the demo shop sells and the shopper's cart.
//!
//! The cart lives in a cookie as product ids and quantities only (`oolong:1|puer:2`); prices, names
//! and the total are always the server's, from [`CATALOG`]. A cookie that names an unknown product
//! or a silly quantity is read as far as it makes sense and never trusted for an amount.

use payment_core::form::escape_html;

use crate::preview::{ua_query, Preview};

/// One product of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Product {
    /// Stable id, as the cart cookie and the forms carry it.
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) blurb: &'static str,
    /// Price in fen (CNY minor units).
    pub(crate) price: u64,
}

/// Everything the shop sells. The first product is the one a new visitor's cart starts with.
pub(crate) const CATALOG: &[Product] = &[
    Product {
        id: "oolong",
        name: "凤凰单丛 · Phoenix oolong, 250 g",
        blurb: "Hand-picked in Chaozhou. Honey and orchid.",
        price: 6800,
    },
    Product { id: "longjing", name: "西湖龙井 · Dragon Well green tea, 100 g", blurb: "Pan-fired, spring 2026.", price: 12_800 },
    Product { id: "puer", name: "普洱熟茶饼 · Ripe pu'er cake, 357 g", blurb: "Aged five years in Menghai.", price: 9900 },
    Product { id: "gaiwan", name: "白瓷盖碗 · Porcelain gaiwan, 150 ml", blurb: "Dehua white porcelain.", price: 4500 },
];

/// The cookie that holds the cart.
pub(crate) const CART_COOKIE: &str = "edgepay_cart";
/// At most this many of one product in a cart.
pub(crate) const MAX_QUANTITY: u32 = 20;

/// The product with this id.
pub(crate) fn product(id: &str) -> Option<&'static Product> {
    CATALOG.iter().find(|p| p.id == id)
}

/// A cart: products of [`CATALOG`] with a quantity of 1 to [`MAX_QUANTITY`], in catalog order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cart {
    lines: Vec<(&'static Product, u32)>,
}

impl Cart {
    /// The cart of a visitor without a cart cookie: one of the first product, so that the shop
    /// page is a working checkout the moment it opens.
    pub(crate) fn starter() -> Self {
        Self { lines: vec![(&CATALOG[0], 1)] }
    }

    /// The cart in the `Cookie` header's value, or `None` without a cart cookie.
    pub(crate) fn from_cookie_header(header: &str) -> Option<Self> {
        let value = header.split(';').find_map(|pair| pair.trim().strip_prefix(CART_COOKIE)?.strip_prefix('='))?;
        let mut cart = Self { lines: Vec::new() };
        for line in value.split('|') {
            let Some((id, quantity)) = line.split_once(':') else { continue };
            let (Some(product), Ok(quantity)) = (product(id), quantity.parse::<u32>()) else { continue };
            cart.set(product, quantity);
        }
        Some(cart)
    }

    /// The cookie's value for this cart (`-` when empty, so that an emptied cart stays empty).
    pub(crate) fn cookie_value(&self) -> String {
        if self.lines.is_empty() {
            return "-".to_owned();
        }
        self.lines.iter().map(|(p, q)| format!("{}:{q}", p.id)).collect::<Vec<_>>().join("|")
    }

    /// Sets the quantity of `product` (0 removes it; above [`MAX_QUANTITY`] is capped).
    pub(crate) fn set(&mut self, product: &'static Product, quantity: u32) {
        let quantity = quantity.min(MAX_QUANTITY);
        self.lines.retain(|(p, _)| p.id != product.id);
        if quantity > 0 {
            self.lines.push((product, quantity));
            self.lines.sort_by_key(|(p, _)| CATALOG.iter().position(|c| c.id == p.id));
        }
    }

    /// The quantity of `product` in the cart.
    pub(crate) fn quantity(&self, product: &Product) -> u32 {
        self.lines.iter().find(|(p, _)| p.id == product.id).map_or(0, |(_, q)| *q)
    }

    pub(crate) fn lines(&self) -> &[(&'static Product, u32)] {
        &self.lines
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The total in fen, from the catalog's prices (at most 4 × 20 × ¥128: no overflow possible).
    pub(crate) fn total(&self) -> u64 {
        self.lines.iter().map(|(p, q)| p.price * u64::from(*q)).sum()
    }

    /// The session's description: the product's name for one item, else a short list that fits
    /// the worker's 127 characters.
    pub(crate) fn description(&self) -> String {
        if let [(product, 1)] = self.lines.as_slice() {
            return product.name.to_owned();
        }
        let items: u32 = self.lines.iter().map(|(_, q)| q).sum();
        let list = self.lines.iter().map(|(p, q)| format!("{} ×{q}", short_name(p))).collect::<Vec<_>>().join(", ");
        let text = format!("{items} items: {list}");
        if text.chars().count() <= 127 {
            text
        } else {
            format!("{}…", text.chars().take(126).collect::<String>())
        }
    }
}

/// The Chinese half of a product's name.
pub(crate) fn short_name(product: &Product) -> &'static str {
    product.name.split(" · ").next().unwrap_or(product.name)
}

/// `¥12.34` for fen.
pub(crate) fn yuan(fen: u64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

/// The product list: each product with its price and an add-to-cart form (`POST /cart`).
pub(crate) fn products_html(cart: &Cart, preview: Option<&Preview>) -> String {
    let ua = ua_query(preview);
    CATALOG
        .iter()
        .map(|p| {
            format!(
                "<li data-product=\"{id}\"><span class=\"name\">{name}</span> <span class=\"price\">{price}</span>\
                 <span class=\"blurb\">{blurb}</span>\
                 <form method=\"post\" action=\"/cart{ua}\"><input type=\"hidden\" name=\"product\" value=\"{id}\">\
                 <input type=\"hidden\" name=\"quantity\" value=\"{next}\"><button>Add · 加入</button></form></li>",
                id = p.id,
                name = escape_html(p.name),
                price = yuan(p.price),
                blurb = escape_html(p.blurb),
                next = cart.quantity(p) + 1,
            )
        })
        .collect()
}

/// The cart: a row per product with its quantity form, subtotal and remove form; the total.
pub(crate) fn cart_html(cart: &Cart, preview: Option<&Preview>) -> String {
    if cart.is_empty() {
        return "<p>Nothing yet. 还没有商品。</p>".to_owned();
    }
    let ua = ua_query(preview);
    let mut html = String::from("<table><tbody>");
    for (p, quantity) in cart.lines() {
        html.push_str(&format!(
            "<tr data-product=\"{id}\" data-quantity=\"{quantity}\"><td title=\"{name}\">{short}</td>\
             <td><form method=\"post\" action=\"/cart{ua}\"><input type=\"hidden\" name=\"product\" value=\"{id}\">\
             <input type=\"number\" name=\"quantity\" min=\"0\" max=\"{max}\" value=\"{quantity}\" aria-label=\"Quantity of {name}\">\
             <button>Update</button></form></td>\
             <td>{subtotal}</td>\
             <td><form method=\"post\" action=\"/cart{ua}\"><input type=\"hidden\" name=\"product\" value=\"{id}\">\
             <input type=\"hidden\" name=\"quantity\" value=\"0\"><button aria-label=\"Remove {name}\">Remove</button></form></td></tr>",
            id = p.id,
            name = escape_html(p.name),
            short = escape_html(short_name(p)),
            max = MAX_QUANTITY,
            subtotal = yuan(p.price * u64::from(*quantity)),
        ));
    }
    html.push_str(&format!("</tbody></table><p class=\"total\" data-total=\"{0}\">Total · 合计 {1}</p>", cart.total(), yuan(cart.total())));
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_read_as_far_as_it_makes_sense() {
        assert_eq!(Cart::from_cookie_header("a=b"), None);
        let cart = Cart::from_cookie_header("a=b; edgepay_cart=puer:2|nope:3|oolong:x|gaiwan:99|oolong:1").unwrap_or_else(Cart::starter);
        assert_eq!(cart.cookie_value(), "oolong:1|puer:2|gaiwan:20");
        assert_eq!(cart.total(), 6800 + 2 * 9900 + 20 * 4500);
        let empty = Cart::from_cookie_header("edgepay_cart=-").unwrap_or_else(Cart::starter);
        assert!(empty.is_empty());
        assert_eq!(empty.cookie_value(), "-");
    }

    #[test]
    fn descriptions_fit_the_worker() {
        assert_eq!(Cart::starter().description(), "凤凰单丛 · Phoenix oolong, 250 g");
        let mut cart = Cart::starter();
        for p in CATALOG {
            cart.set(p, 20);
        }
        assert_eq!(cart.description(), "80 items: 凤凰单丛 ×20, 西湖龙井 ×20, 普洱熟茶饼 ×20, 白瓷盖碗 ×20");
        assert!(cart.description().chars().count() <= 127);
        assert_eq!(cart.total(), 20 * (6800 + 12_800 + 9900 + 4500));
    }
}
