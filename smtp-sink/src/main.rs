//! `smtp-sink [ADDR] [DIR]`: a loopback SMTP server that writes every message it receives
//! to DIR as an `.eml` file (default 127.0.0.1:2525 and ./sink-mail).

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:2525".into());
    let dir = args.next().unwrap_or_else(|| "sink-mail".into());
    let sink = smtp_sink::SmtpSink::start(&addr, Some(dir.clone().into())).await?;
    println!("smtp-sink listening on {} and writing to {dir}", sink.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
