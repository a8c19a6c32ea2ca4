//! The QR code to scan with WeChat or Alipay on the phone: drawn as one SVG path, with the amount,
//! what to scan it with and a countdown to its expiry.

use std::rc::Rc;

use gloo_timers::callback::Interval;
use payment_core::method::PaymentMethod;
use qrcode::bits::Bits;
use qrcode::{Color, EcLevel, QrCode, Version};
use yew::prelude::*;

use crate::hooks::use_effect_on;
use crate::state::{Action, Checkout};
use crate::i18n::{cat, format_amount, push_uint, Locale, Text};

/// The modules of white around the code that scanners need.
const QUIET: usize = 4;

/// A QR code ready to draw.
#[derive(Debug, PartialEq)]
pub struct Qr {
    /// The SVG path of the dark modules.
    pub path: String,
    /// The side in modules, quiet zone included.
    pub size: usize,
    /// Unix seconds.
    pub expires_at: u64,
}

impl Qr {
    /// `data`'s code, or `None` when it does not fit in a QR code.
    pub fn new(data: &str, expires_at: u64) -> Option<Self> {
        let (path, size) = path(data)?;
        Some(Self { path, size, expires_at })
    }
}

/// What the panel shows.
#[derive(Debug)]
pub(crate) struct QrProps {
    /// The language of every sentence.
    pub locale: Locale,
    /// WeChat Native or Alipay QR.
    pub method: PaymentMethod,
    /// The code.
    pub qr: Rc<Qr>,
    /// The amount in fen.
    pub amount: u64,
    /// Whether focus moves to the sentence.
    pub focus: bool,
    /// Buttons under the code.
    pub children: Html,
}

fn unix_now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// The clock of the QR code that expires at `expires_at` (`None`: no code shown): one tick a
/// second while it is shown, for the countdown, and `QrExpired` from when it reaches zero. Called
/// by the widget's root on every render, as hooks are; the panel itself is a function, since each
/// component is compiled anew.
#[hook]
pub(crate) fn use_qr_clock(expires_at: Option<u64>, dispatcher: UseReducerDispatcher<Checkout>) {
    let tick = use_state(u64::default);
    let deps = (expires_at.unwrap_or(0), u64::from(expires_at.is_some()), "");
    use_effect_on(deps, Box::new(move |_| {
        let tick = expires_at.map(|expires_at| {
            Interval::new(1000, move || {
                let t = unix_now();
                tick.set(t);
                if t >= expires_at {
                    dispatcher.dispatch(Action::QrExpired);
                }
            })
        });
        Box::new(move || drop(tick))
    }));
}

/// The panel: the code, the amount, what to scan it with, the countdown.
pub(crate) fn qr_panel(props: &QrProps) -> Html {
    let l = props.locale;
    let qr = &props.qr;
    let left = qr.expires_at.saturating_sub(unix_now());
    let mut view_box = String::from("0 0 ");
    push_uint(&mut view_box, qr.size as u64);
    view_box.push(' ');
    push_uint(&mut view_box, qr.size as u64);
    let amount = format_amount(props.amount);
    // The code's text alternative: what it is, for how much, and what to scan it with.
    let label = cat(&[l.t(Text::QrCode), " · ", l.method_name(props.method), " · ", amount.as_str(), " · ", l.method_hint(props.method)]);
    let mut countdown = String::from(l.t(Text::QrExpiresIn));
    countdown.push(' ');
    push_uint(&mut countdown, left / 60);
    countdown.push(':');
    countdown.push(char::from(b'0' + (left % 60 / 10) as u8));
    countdown.push(char::from(b'0' + (left % 10) as u8));
    html! {
        <div class="ep-notice ep-qr">
            <p class="ep-chosen">{ l.method_name(props.method) }</p>
            <svg class="ep-code" role="img" aria-label={label} viewBox={view_box} shape-rendering="crispEdges">
                <rect width="100%" height="100%" fill="#fff" />
                <path d={qr.path.clone()} fill="#000" />
            </svg>
            <p class="ep-qr-amount">{ amount }</p>
            <p class="ep-msg" tabindex="-1" data-ep-focus={props.focus.then_some("")}>{ l.method_hint(props.method) }</p>
            <p class="ep-countdown">{ countdown }</p>
            <div class="ep-actions">{ props.children.clone() }</div>
        </div>
    }
}

/// The smallest QR code of `data` as bytes, medium error correction. Byte mode only: the
/// providers' URLs are short, and the segment optimizer would cost shoppers kilobytes of wasm.
fn encode(data: &[u8]) -> Option<QrCode> {
    (1..=40).find_map(|version| {
        let mut bits = Bits::new(Version::Normal(version));
        bits.push_byte_data(data).ok()?;
        bits.push_terminator(EcLevel::M).ok()?;
        QrCode::with_bits(bits, EcLevel::M).ok()
    })
}

/// The SVG path of `data`'s QR code and its side in modules, quiet zone included: one
/// `M x y h n v1 h-n z` per run of dark modules in a row.
fn path(data: &str) -> Option<(String, usize)> {
    let code = encode(data.as_bytes())?;
    let width = code.width();
    let mut d = String::new();
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if code[(x, y)] == Color::Dark {
                let start = x;
                while x < width && code[(x, y)] == Color::Dark {
                    x += 1;
                }
                d.push('M');
                push_uint(&mut d, (start + QUIET) as u64);
                d.push(' ');
                push_uint(&mut d, (y + QUIET) as u64);
                d.push('h');
                push_uint(&mut d, (x - start) as u64);
                d.push_str("v1h-");
                push_uint(&mut d, (x - start) as u64);
                d.push('z');
            } else {
                x += 1;
            }
        }
    }
    Some((d, width + 2 * QUIET))
}
